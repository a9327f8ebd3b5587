/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "te-instance-lock"

#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>
#include <glib/gstdio.h>

#include "te-instance-lock.h"

/* One process per state folder: the daemon and the app each take an
 * exclusive flock() on STATE_DIR/lock before they read or write anything
 * there, and write their PID into it for the one that is turned away. The
 * kernel drops the lock with the last descriptor, so it dies with the
 * process however it ends (SIGKILL included) and is never stale. The file
 * itself stays: removing it would let a third process lock a new file
 * while a second still waits on the old one. */

G_DEFINE_QUARK (te-instance-lock-error-quark, te_instance_lock_error)

#define LOCK_NAME "lock"

struct _TeInstanceLock
{
  int   fd;
  char *path;
};

/* The PID the holder wrote, or 0 when there is none yet (it is written just
 * after the lock is taken) or it does not parse. */
static guint64
read_holder (int fd)
{
  char buf[32];
  ssize_t n;
  guint64 pid = 0;

  n = pread (fd, buf, sizeof buf - 1, 0);
  if (n <= 0)
    return 0;
  buf[n] = '\0';
  g_strchomp (buf);
  if (!g_ascii_string_to_unsigned (buf, 10, 1, G_MAXINT32, &pid, NULL))
    return 0;
  return pid;
}

/**
 * te_instance_lock_acquire:
 * @state_dir: the state folder, which must exist
 * @error: return location for a #GError
 *
 * Takes the state folder's lock without waiting, and writes this process's
 * PID into the lock file.
 *
 * Returns: (transfer full) (nullable): the lock, held until
 *   te_instance_lock_release() or the end of the process; `NULL` with
 *   %TE_INSTANCE_LOCK_ERROR_HELD when another process holds it (the message
 *   names its PID and the folder), or %TE_INSTANCE_LOCK_ERROR_FAILED
 */
TeInstanceLock *
te_instance_lock_acquire (const char  *state_dir,
                          GError     **error)
{
  g_autofree char *path = NULL;
  g_autofree char *text = NULL;
  TeInstanceLock *lock;
  int fd;

  g_return_val_if_fail (state_dir != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  path = g_build_filename (state_dir, LOCK_NAME, NULL);
  fd = g_open (path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0)
    {
      int saved = errno;

      g_set_error (error, TE_INSTANCE_LOCK_ERROR, TE_INSTANCE_LOCK_ERROR_FAILED,
                   "Cannot open the lock file %s: %s", path, g_strerror (saved));
      return NULL;
    }
  while (flock (fd, LOCK_EX | LOCK_NB) != 0)
    {
      int saved = errno;
      guint64 pid;

      if (saved == EINTR)
        continue;
      if (saved == EWOULDBLOCK)
        {
          pid = read_holder (fd);
          if (pid != 0)
            g_set_error (error, TE_INSTANCE_LOCK_ERROR, TE_INSTANCE_LOCK_ERROR_HELD,
                         "Another TorrentEdge (PID %" G_GUINT64_FORMAT ") is using %s", pid, state_dir);
          else
            g_set_error (error, TE_INSTANCE_LOCK_ERROR, TE_INSTANCE_LOCK_ERROR_HELD,
                         "Another TorrentEdge is using %s", state_dir);
        }
      else
        g_set_error (error, TE_INSTANCE_LOCK_ERROR, TE_INSTANCE_LOCK_ERROR_FAILED,
                     "Cannot lock %s: %s", path, g_strerror (saved));
      close (fd);
      return NULL;
    }

  text = g_strdup_printf ("%ld\n", (long) getpid ());
  if (ftruncate (fd, 0) != 0 || pwrite (fd, text, strlen (text), 0) != (ssize_t) strlen (text))
    {
      /* The lock holds without the PID; only the message of a second
       * process loses it. */
      g_debug ("Cannot write the PID into %s: %s", path, g_strerror (errno));
    }

  lock = g_new0 (TeInstanceLock, 1);
  lock->fd = fd;
  lock->path = g_steal_pointer (&path);
  return lock;
}

/**
 * te_instance_lock_release:
 * @lock: (transfer full): a lock from te_instance_lock_acquire()
 *
 * Clears the PID and gives the lock up.
 */
void
te_instance_lock_release (TeInstanceLock *lock)
{
  if (lock == NULL)
    return;
  if (ftruncate (lock->fd, 0) != 0)
    g_debug ("Cannot clear %s: %s", lock->path, g_strerror (errno));
  close (lock->fd);
  g_free (lock->path);
  g_free (lock);
}
