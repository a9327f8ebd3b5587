#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""Packaging checks, one group per invocation, reported as TAP.

  check-packaging.py flatpak SRCDIR BUILDDIR MANIFEST APP_ID PREFIX BINDIR DATADIR MANDIR LOCALEDIR
  check-packaging.py po SRCDIR DESKTOP METAINFO
  check-packaging.py help SRCDIR
  check-packaging.py man SRCDIR CLI [APP]

Each check runs the real tool (meson install, xgettext, msgfmt, yelp-check,
groff, man, the built programs) and compares its output with the tree.
"""

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET


class Tap:
    def __init__(self):
        self.n = 0
        self.failed = 0

    def check(self, ok, name, diag=None):
        self.n += 1
        print(('ok' if ok else 'not ok') + ' %d - %s' % (self.n, name))
        if not ok:
            self.failed += 1
            for line in str(diag or '').splitlines():
                print('# ' + line)
        sys.stdout.flush()
        return ok

    def done(self):
        print('1..%d' % self.n)
        return 1 if self.failed or self.n == 0 else 0


def run(cmd, **kwargs):
    return subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          universal_newlines=True, **kwargs)


# Flatpak manifest and the meson install

ALLOWED_FINISH_ARGS = {
    '--share=network', '--share=ipc', '--socket=wayland', '--socket=fallback-x11',
    '--device=dri', '--filesystem=xdg-download',
}


def read_desktop_entry(path):
    entry = {}
    with open(path, encoding='utf-8') as f:
        for line in f:
            if '=' in line and not line.startswith('#'):
                key, value = line.rstrip('\n').split('=', 1)
                entry.setdefault(key, value)
    return entry


def check_flatpak(tap, args):
    srcdir, builddir, manifest_path, app_id, prefix, bindir, datadir, mandir, localedir = args

    try:
        with open(manifest_path, encoding='utf-8') as f:
            manifest = json.load(f)
    except (OSError, ValueError) as e:
        tap.check(False, 'the manifest is valid JSON', e)
        return
    tap.check(True, 'the manifest is valid JSON')
    tap.check(manifest.get('app-id') == app_id, 'the manifest names the app id',
              'app-id: %r' % manifest.get('app-id'))
    tap.check(manifest.get('runtime') == 'org.gnome.Platform'
              and manifest.get('sdk') == 'org.gnome.Sdk',
              'the runtime is the GNOME platform')

    finish = manifest.get('finish-args', [])
    extra = [a for a in finish if a not in ALLOWED_FINISH_ARGS]
    missing = sorted(ALLOWED_FINISH_ARGS - set(finish))
    tap.check(not extra and not missing, 'finish-args are exactly the documented ones',
              'not allowed: %s\nmissing: %s' % (extra, missing))

    readme = os.path.join(os.path.dirname(manifest_path), 'README.md')
    try:
        with open(readme, encoding='utf-8') as f:
            text = f.read()
        undocumented = [a for a in finish if '`%s`' % a not in text]
    except OSError as e:
        undocumented = [str(e)]
    tap.check(not undocumented, 'flatpak/README.md explains every finish arg',
              'not explained: %s' % undocumented)

    modules = [m for m in manifest.get('modules', []) if isinstance(m, dict)]
    ours = [m for m in modules if m.get('buildsystem') == 'meson'
            and any(s.get('path') and os.path.realpath(os.path.join(os.path.dirname(manifest_path), s['path']))
                    == os.path.realpath(srcdir) for s in m.get('sources', []))]
    tap.check(len(ours) == 1, 'one meson module builds this source tree',
              'modules: %s' % [m.get('name') for m in modules])
    if ours:
        opts = ours[0].get('config-opts', [])
        tap.check('-Dtests=false' in opts, 'the app module builds without its tests', opts)

    destdir = tempfile.mkdtemp(prefix='te-packaging-')
    try:
        r = run(['meson', 'install', '-C', builddir, '--no-rebuild', '--quiet', '--destdir', destdir])
        if not tap.check(r.returncode == 0, 'meson install --destdir succeeds', r.stdout + r.stderr):
            return

        def installed(*parts):
            path = os.path.join(*parts)
            return os.path.join(destdir, os.path.relpath(path, '/'))

        def in_prefix(value):
            return value if os.path.isabs(value) else os.path.join(prefix, value)

        bin_dir = in_prefix(bindir)
        data_dir = in_prefix(datadir)
        command = manifest.get('command', '')
        exe = installed(bin_dir, command)
        tap.check(command and os.path.isfile(exe) and os.access(exe, os.X_OK),
                  'the manifest command %r is installed in bindir' % command, exe)

        desktop = installed(data_dir, 'applications', app_id + '.desktop')
        if tap.check(os.path.isfile(desktop), 'the desktop file is installed', desktop):
            entry = read_desktop_entry(desktop)
            exec_bin = entry.get('Exec', '').split(' ')[0]
            tap.check(os.path.basename(exec_bin) == command and os.path.isfile(installed(exec_bin)),
                      'the desktop file runs the installed command', 'Exec=%s' % entry.get('Exec'))
            tap.check(entry.get('Icon') == app_id, 'the desktop file names the app icon',
                      'Icon=%s' % entry.get('Icon'))
            tap.check('Comment[de]' in entry, 'the installed desktop file is translated',
                      'no Comment[de] in %s' % desktop)

        metainfo = installed(data_dir, 'metainfo', app_id + '.metainfo.xml')
        if tap.check(os.path.isfile(metainfo), 'the metainfo file is installed', metainfo):
            root = ET.parse(metainfo).getroot()
            launchable = root.find('launchable')
            tap.check(root.findtext('id') == app_id
                      and launchable is not None and launchable.text == app_id + '.desktop',
                      'the metainfo names the app id and its desktop file')

        for sub, name in (('scalable', app_id + '.svg'), ('symbolic', app_id + '-symbolic.svg')):
            icon = installed(data_dir, 'icons', 'hicolor', sub, 'apps', name)
            tap.check(os.path.isfile(icon), 'the %s icon is installed' % sub, icon)

        schema = installed(data_dir, 'glib-2.0', 'schemas', app_id + '.gschema.xml')
        if tap.check(os.path.isfile(schema), 'the GSettings schema is installed', schema):
            root = ET.parse(schema).getroot()
            ids = [s.get('id') for s in root.findall('schema')]
            tap.check(app_id in ids and root.get('gettext-domain') == 'torrentedge',
                      'the schema has the app id and the gettext domain', ids)

        service = installed(data_dir, 'dbus-1', 'services', app_id + '.service')
        if tap.check(os.path.isfile(service), 'the D-Bus service file is installed', service):
            entry = read_desktop_entry(service)
            exec_bin = entry.get('Exec', '').split(' ')[0]
            tap.check(entry.get('Name') == app_id and os.path.isfile(installed(exec_bin)),
                      'the D-Bus service names the app id and an installed program',
                      'Name=%s Exec=%s' % (entry.get('Name'), entry.get('Exec')))

        index = installed(data_dir, 'help', 'C', 'torrentedge', 'index.page')
        tap.check(os.path.isfile(index), 'the manual is installed for help:torrentedge', index)
        for page in ('torrentedge.1', 'torrentedge-cli.1'):
            man = installed(in_prefix(mandir), 'man1', page)
            tap.check(os.path.isfile(man), 'the man page %s is installed' % page, man)
        for lang in read_linguas(os.path.join(srcdir, 'po', 'LINGUAS')):
            mo = installed(in_prefix(localedir), lang, 'LC_MESSAGES', 'torrentedge.mo')
            tap.check(os.path.isfile(mo), 'the %s message catalog is installed' % lang, mo)
    finally:
        shutil.rmtree(destdir, ignore_errors=True)


# Translations

# The keywords and flags of meson's i18n 'glib' preset, so that the template
# regenerated here is the one `ninja torrentedge-pot` writes.
GLIB_PRESET = [
    '--from-code=UTF-8', '--add-comments',
    '--keyword=_', '--keyword=N_', '--keyword=C_:1c,2', '--keyword=NC_:1c,2',
    '--keyword=g_dcgettext:2', '--keyword=g_dngettext:2,3', '--keyword=g_dpgettext2:2c,3',
    '--flag=N_:1:pass-c-format', '--flag=C_:2:pass-c-format', '--flag=NC_:2:pass-c-format',
    '--flag=g_dngettext:2:pass-c-format', '--flag=g_strdup_printf:1:c-format',
    '--flag=g_string_printf:2:c-format', '--flag=g_string_append_printf:2:c-format',
    '--flag=g_error_new:3:c-format', '--flag=g_set_error:4:c-format',
    '--flag=g_markup_printf_escaped:1:c-format', '--flag=g_log:3:c-format',
    '--flag=g_print:1:c-format', '--flag=g_printerr:1:c-format', '--flag=g_printf:1:c-format',
    '--flag=g_fprintf:2:c-format', '--flag=g_sprintf:2:c-format', '--flag=g_snprintf:3:c-format',
]

C_MARKERS = re.compile(r'(?<![A-Za-z0-9_])(?:N|C|NC)?_\s*\(\s*"|\bg_d(?:n|c|p)gettext2?\s*\(')


def read_linguas(path):
    langs = []
    with open(path, encoding='utf-8') as f:
        for line in f:
            line = line.split('#', 1)[0].strip()
            langs += line.split()
    return langs


def read_potfiles(path):
    with open(path, encoding='utf-8') as f:
        return [l.strip() for l in f if l.strip() and not l.lstrip().startswith('#')]


def translatable_files(srcdir):
    found = []
    for top in ('src', 'data'):
        for dirpath, dirnames, filenames in os.walk(os.path.join(srcdir, top)):
            dirnames.sort()
            for name in sorted(filenames):
                path = os.path.join(dirpath, name)
                rel = os.path.relpath(path, srcdir)
                if name.endswith(('.desktop.in', '.metainfo.xml.in', '.appdata.xml.in', '.gschema.xml')):
                    found.append(rel)
                    continue
                if not name.endswith(('.c', '.h', '.ui')):
                    continue
                with open(path, encoding='utf-8', errors='replace') as f:
                    text = f.read()
                if name.endswith('.ui'):
                    if 'translatable="yes"' in text:
                        found.append(rel)
                elif C_MARKERS.search(text):
                    found.append(rel)
    return found


def unquote(s):
    return bytes(s, 'utf-8').decode('unicode_escape').encode('latin-1').decode('utf-8')


def parse_po(path):
    """Returns {(msgctxt, msgid, msgid_plural): (msgstrs, fuzzy)} without the header."""
    entries = {}
    cur = {}
    key = None
    fuzzy = False

    def flush():
        nonlocal cur, fuzzy
        if 'msgid' in cur and cur['msgid'] != '' and not cur.get('obsolete'):
            k = (cur.get('msgctxt'), cur['msgid'], cur.get('msgid_plural'))
            strs = [v for kk, v in sorted(cur.items()) if kk.startswith('msgstr')]
            entries[k] = (strs, fuzzy)
        cur = {}
        fuzzy = False

    with open(path, encoding='utf-8') as f:
        for line in f:
            line = line.rstrip('\n')
            if not line.strip():
                flush()
                key = None
                continue
            if line.startswith('#~'):
                cur['obsolete'] = True
                continue
            if line.startswith('#,'):
                fuzzy = fuzzy or 'fuzzy' in line
                continue
            if line.startswith('#'):
                continue
            m = re.match(r'^(msgctxt|msgid_plural|msgid|msgstr(?:\[\d+\])?)\s+"(.*)"$', line)
            if m:
                if m.group(1) in ('msgctxt', 'msgid') and 'msgstr' in ''.join(cur):
                    flush()
                key = m.group(1)
                cur[key] = unquote(m.group(2))
            elif line.startswith('"') and key:
                cur[key] += unquote(line[1:-1])
    flush()
    return entries


def check_po(tap, args):
    srcdir, desktop, metainfo = args
    podir = os.path.join(srcdir, 'po')
    listed = read_potfiles(os.path.join(podir, 'POTFILES.in'))

    absent = [p for p in listed if not os.path.isfile(os.path.join(srcdir, p))]
    tap.check(not absent, 'every file in POTFILES.in exists', absent)
    unlisted = [p for p in translatable_files(srcdir) if p not in listed]
    tap.check(not unlisted, 'every file with translatable strings is in POTFILES.in',
              'missing from po/POTFILES.in:\n' + '\n'.join(unlisted))

    committed = parse_po(os.path.join(podir, 'torrentedge.pot'))
    tmp = tempfile.mkdtemp(prefix='te-pot-')
    try:
        pot = os.path.join(tmp, 'torrentedge.pot')
        r = run(['xgettext', '--package-name=torrentedge', '-p', tmp,
                 '-f', os.path.join(podir, 'POTFILES.in'), '-D', srcdir, '-k_', '-o', pot]
                + GLIB_PRESET, cwd=srcdir)
        if tap.check(r.returncode == 0 and os.path.isfile(pot), 'xgettext regenerates the template',
                     r.stderr):
            fresh = parse_po(pot)
            new = sorted(k[1] for k in set(fresh) - set(committed))
            gone = sorted(k[1] for k in set(committed) - set(fresh))
            tap.check(not new and not gone,
                      'po/torrentedge.pot is up to date (ninja -C BUILD torrentedge-pot)',
                      'not in the committed template:\n%s\nno longer in the sources:\n%s'
                      % ('\n'.join(new), '\n'.join(gone)))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

    langs = read_linguas(os.path.join(podir, 'LINGUAS'))
    on_disk = sorted(f[:-3] for f in os.listdir(podir) if f.endswith('.po'))
    tap.check(sorted(langs) == on_disk, 'LINGUAS lists exactly the .po files',
              'LINGUAS: %s, .po files: %s' % (langs, on_disk))
    for lang in langs:
        po = os.path.join(podir, lang + '.po')
        r = run(['msgfmt', '--check', '--statistics', '-o', os.devnull, po])
        tap.check(r.returncode == 0, 'msgfmt --check passes for %s.po' % lang, r.stderr)
        entries = parse_po(po)
        stale = sorted(k[1] for k in set(committed) ^ set(entries))
        tap.check(not stale, '%s.po has the template\'s messages (ninja -C BUILD torrentedge-update-po)'
                  % lang, '\n'.join(stale))

    # German is the reference translation: complete, nothing fuzzy, the
    # right plural rule.
    de = os.path.join(podir, 'de.po')
    entries = parse_po(de)
    untranslated = sorted(k[1] for k, (strs, fuzzy) in entries.items()
                          if fuzzy or not strs or any(s == '' for s in strs))
    tap.check(not untranslated, 'de.po translates every message', '\n'.join(untranslated))
    with open(de, encoding='utf-8') as f:
        header = f.read(4096)
    tap.check('Plural-Forms: nplurals=2; plural=(n != 1);' in header, 'de.po has the German plural rule')

    entry = read_desktop_entry(desktop)
    tap.check(all(k in entry for k in ('Name[de]', 'GenericName[de]', 'Comment[de]', 'Keywords[de]')),
              'the built desktop file has the German strings', desktop)
    root = ET.parse(metainfo).getroot()
    lang_attr = '{http://www.w3.org/XML/1998/namespace}lang'
    tap.check(any(e.get(lang_attr) == 'de' for e in root.iter('summary'))
              and any(e.get(lang_attr) == 'de' for e in root.iter('p')),
              'the built metainfo has the German summary and description', metainfo)


# The manual

def check_help(tap, args):
    srcdir, = args
    cdir = os.path.join(srcdir, 'help', 'C')
    pages = sorted(f for f in os.listdir(cdir) if f.endswith('.page'))
    tap.check(len(pages) > 0, 'help/C has pages')
    r = run(['yelp-check', 'validate'] + [os.path.join(cdir, p) for p in pages])
    tap.check(r.returncode == 0 and not r.stdout.strip(), 'yelp-check validate help/C/*.page',
              r.stdout + r.stderr)
    r = run(['yelp-check', 'links', cdir])
    tap.check(r.returncode == 0 and not r.stdout.strip(), 'yelp-check links help/C', r.stdout + r.stderr)
    r = run(['yelp-check', 'orphans', cdir])
    tap.check(r.returncode == 0 and not r.stdout.strip(), 'every page is reachable from the index',
              r.stdout + r.stderr)
    with open(os.path.join(srcdir, 'help', 'meson.build'), encoding='utf-8') as f:
        build = f.read()
    unbuilt = [p for p in pages + ['legal.xml'] if "'%s'" % p not in build]
    tap.check(not unbuilt, 'help/meson.build installs every page', unbuilt)


# Man pages

OPTION_LINE = re.compile(r'^\s{2,}(?:(-[A-Za-z0-9]),\s+)?(--[A-Za-z0-9][A-Za-z0-9-]*)')


def parse_goption_help(text):
    """Returns [(section, short, long)] from GOption --help output."""
    options = []
    section = None
    for line in text.splitlines():
        if line and not line.startswith(' ') and line.endswith(':'):
            section = line[:-1]
            continue
        m = OPTION_LINE.match(line)
        if m and section:
            options.append((section, m.group(1), m.group(2)))
    return options


def roff_text(path):
    with open(path, encoding='utf-8') as f:
        text = f.read()
    text = re.sub(r'\\f[BIRP]|\\f\[[A-Z]*\]', '', text)
    return text.replace('\\-', '-').replace('\\(aq', "'")


def man_sections(text, macro):
    """Splits roff text at .SH (macro 'SH') or .SS (macro 'SS') headings:
    {heading: body}. A .SS section ends at the next .SS or .SH."""
    out = {}
    current = None
    for line in text.splitlines():
        m = re.match(r'^\.(SH|SS)\s+"?([^"]*)"?\s*$', line)
        if m:
            if m.group(1) == macro:
                current = m.group(2).strip()
                out.setdefault(current, '')
            elif macro == 'SS':
                current = None
            continue
        if current is not None:
            out[current] += line + '\n'
    return out


def mentions(text, option):
    return re.search(r'(?<![\w-])%s(?![\w-])' % re.escape(option), text) is not None


def check_man(tap, args):
    srcdir, cli = args[0], args[1]
    app = args[2] if len(args) > 2 else None
    env = dict(os.environ, MANWIDTH='80', LC_ALL='C.UTF-8')
    pages = {name: os.path.join(srcdir, 'doc', name) for name in ('torrentedge.1', 'torrentedge-cli.1')}

    for name, path in pages.items():
        r = run(['groff', '-ww', '-z', '-man', path], env=env)
        tap.check(r.returncode == 0 and not r.stderr.strip(), 'groff -ww renders %s without warnings' % name,
                  r.stderr)
        r = run(['man', '--warnings', '-l', path], env=env)
        tap.check(r.returncode == 0 and not r.stderr.strip() and 'NAME' in r.stdout,
                  'man --warnings -l renders %s without warnings' % name, r.stderr)

    text = roff_text(pages['torrentedge-cli.1'])
    subsections = man_sections(text, 'SS')
    r = run([cli, '--help'])
    if not tap.check(r.returncode == 0, 'torrentedge-cli --help runs', r.stderr):
        return
    commands = []
    in_commands = False
    for line in r.stdout.splitlines():
        if line.strip() == 'Commands:':
            in_commands = True
        elif in_commands and re.match(r'^\s{2}\S', line):
            commands.append(line.split()[0])
        elif in_commands and not line.strip():
            in_commands = False
    tap.check(len(commands) >= 6, 'torrentedge-cli --help lists its commands', r.stdout)

    for command in commands:
        body = subsections.get(command)
        if not tap.check(body is not None, 'torrentedge-cli(1) has a section for “%s”' % command,
                         'sections: %s' % sorted(subsections)):
            continue
        r = run([cli, command, '--help'])
        if not tap.check(r.returncode == 0, 'torrentedge-cli %s --help runs' % command, r.stderr):
            continue
        undocumented = []
        for section, short, long_ in parse_goption_help(r.stdout):
            # Help options are described once, under GENERAL OPTIONS.
            where = text if section == 'Help Options' else body
            for opt in (short, long_):
                if opt and not mentions(where, opt):
                    undocumented.append(opt)
        tap.check(not undocumented, 'torrentedge-cli(1) documents every option of “%s”' % command,
                  'not in its section: %s' % undocumented)

    if app:
        r = run([app, '--help-all'], env=env)
        if tap.check(r.returncode == 0, 'torrentedge --help-all runs', r.stderr):
            app_text = roff_text(pages['torrentedge.1'])
            missing = [o for _, s, l in parse_goption_help(r.stdout) for o in (s, l)
                       if o and not mentions(app_text, o)]
            tap.check(not missing, 'torrentedge(1) documents every option of the app', missing)


def main():
    if len(sys.argv) < 2:
        sys.stderr.write(__doc__)
        return 2
    tap = Tap()
    groups = {'flatpak': check_flatpak, 'po': check_po, 'help': check_help, 'man': check_man}
    groups[sys.argv[1]](tap, sys.argv[2:])
    return tap.done()


if __name__ == '__main__':
    sys.exit(main())
