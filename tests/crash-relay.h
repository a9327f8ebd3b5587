/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <gio/gio.h>
#include <libsoup/soup.h>

/* test-crash.c's in-process tracker and the relay in front of its seeder
 * (see there). */

#define PIECE         (256 * 1024)
#define N_PIECES      96
#define BF_LEN        (N_PIECES / 8)
#define N_KILLS       3
#define N_RUNS        (N_KILLS + 1)

/* The tracker: the relay's address for the daemon, nobody for the seeder. */
typedef struct {
  SoupServer *server;
  char       *url;
  guint16     seeder_port;
  guint16     relay_port;
  guint       n_answered;
} Tracker;

/* The relay: daemon ⇄ seeder, reading the seeder's PIECE messages. */
typedef struct {
  GSocketService *service;
  GSocketClient  *client;
  GSocketAddress *seeder;
  guint16         port;
  guint           run;                  /* the daemon run new connections belong to */
  guint           n_links;
  guint           n_accepted[N_RUNS];
  guint8          sent[N_RUNS][BF_LEN]; /* pieces the seeder sent blocks of */
  guint64         payload[N_RUNS];      /* block bytes it sent */
} Relay;

void     crash_tracker_start (Tracker *t);
void     crash_tracker_stop  (Tracker *t);
void     crash_relay_start   (Relay   *relay,
                              guint16  seeder_port);
gboolean crash_relay_idle    (gpointer data);
void     crash_relay_stop    (Relay   *relay);
