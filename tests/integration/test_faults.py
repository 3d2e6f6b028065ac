# SPDX-License-Identifier: ISC
"""The store when the disk fails: every row of the table "Store faults" in
docs/operations.md, held against a live acmensd and acmensctl.

The faults are injected with libfiu (fiu-run -x preloads wrappers of the
POSIX I/O calls; fiu-ctrl switches a failure point on and off in the
running process). A point is enabled only for calls made inside
mdb_txn_commit (fiu's enable_stack_by_name), so that the store's writes
fail while the sockets, the logs and the event loop's wakeups do not:
what fails is the disk under the store, not the whole kernel.

For each fault: the write in flight is refused with its JSON error (503
when the store could not write, 507 when the disk is full), never
acknowledged; DNS answers from the last committed state; and either writes
work again once the fault clears, without a restart, or acmensd exits with
a clear message and starts again on the intact store. After a restart every
acknowledged write is there and no refused one is.

The full-disk tests put the store (or a backup's destination) on a tmpfs
the test mounts, smaller than store.max_size."""

import ctypes
import errno
import json
import os
import shutil
import signal
import subprocess

import dns.flags
import dns.rcode
import pytest

from conftest import ACMENSCTL, ACMENSD, dns_txt, start_http, value, wait_for
from test_update import nsupdate

FIU_RUN = "/usr/bin/fiu-run"
FIU_CTRL = "/usr/bin/fiu-ctrl"
UPDATE_ON = "update:\n  enabled: true\n"
CHURN = 6
STORE_FAILED = "store failed after a write error; exiting to reopen it"

# what a refused write answers, by errno
STATUS = {errno.EIO: 503, errno.ENOSPC: 507}
V1_CODE = {503: "store_unavailable", 507: "insufficient_storage"}
ACMEDNS_BODY = {503: b'{"error": "db_error"}', 507: b'{"error": "insufficient_storage"}'}
WAYS = {"v1", "update", "batch", "v1/register", "register", "admin", "rfc2136"}
ERRNO_TEXT = {errno.EIO: "Input/output error", errno.ENOSPC: "No space left on device"}


PLIB = "/usr/lib/fiu"


def asan_runtime():
    """The path of the ASan runtime acmensd links, or None (a plain build)."""
    p = subprocess.run(["ldd", ACMENSD], capture_output=True, text=True, check=True)
    for line in p.stdout.splitlines():
        if "libasan" in line and "=>" in line:
            return line.split("=>")[1].split()[0]
    return None


ASAN_LIB = asan_runtime()


@pytest.fixture(autouse=True)
def fiu_installed():
    """libfiu is a test package (scripts/dev installs fiu-utils)."""
    assert os.access(FIU_RUN, os.X_OK) and os.access(FIU_CTRL, os.X_OK), \
        "libfiu's tools are missing: scripts/dev install (fiu-utils)"


def fiu_argv(workdir, ctrl, *commands):
    """The argv prefix that runs a program under libfiu, its remote control
    on the fifos named ctrl ("": none), commands in force from the start:
    fiu-run -x. ASan's runtime must be the first library loaded, and
    fiu-run's LD_PRELOAD puts libfiu first (the sanitized program then dies
    at start): under ASan, the same environment fiu-run sets up, with the
    runtime in front, and libfiu's own allocations (kept until exit) off
    the leak report (a suppressions file in workdir)."""
    if not ASAN_LIB:
        argv = [FIU_RUN, "-x", "-f", ctrl]
        for c in commands:
            argv += ["-c", c]
        return argv
    supp = os.path.join(workdir, "lsan-fiu.supp")
    with open(supp, "w") as fh:
        fh.write("leak:fiu_run_preload.so\nleak:fiu_posix_preload.so\nleak:libfiu.so\n")
    lsan = os.environ.get("LSAN_OPTIONS", "")
    return ["/usr/bin/env",
            f"LD_PRELOAD={ASAN_LIB} {PLIB}/fiu_run_preload.so {PLIB}/fiu_posix_preload.so",
            f"FIU_CTRL_FIFO={ctrl}", "FIU_ENABLE=" + "\n".join(commands),
            f"LSAN_OPTIONS={lsan + ':' if lsan else ''}suppressions={supp}"]


def on_commit(point, err):
    """fiu's command failing `point` with errno `err` inside mdb_txn_commit."""
    return (f"enable_stack_by_name name={point},failnum=1,failinfo={err},"
            "func_name=mdb_txn_commit,pos_in_stack=-1")


def under_fiu(server):
    """Have the server's acmensd run under libfiu, controllable by fiu-ctrl."""
    server.fiu_prefix = os.path.join(server.dir, "fiu")
    server.argv_prefix = fiu_argv(server.dir, server.fiu_prefix)


def fiu_ctrl(server, command):
    p = subprocess.run([FIU_CTRL, "-f", server.fiu_prefix, "-c", command, str(server.proc.pid)],
                       capture_output=True, text=True, timeout=10)
    assert p.returncode == 0 and "error" not in p.stdout + p.stderr, (command, p)


def ctl_under_fiu(server, command, *args):
    """acmensctl with a libfiu command in force from its first instruction."""
    cmd = fiu_argv(server.dir, "", command) + [ACMENSCTL, "-c", server.config] + list(args)
    return subprocess.run(cmd, capture_output=True, text=True, timeout=30)


def start_fiu(make_server, **http):
    """An acmensd under fiu-run with the API (admin on) and RFC 2136 updates."""
    def factory(start=True, **cfg):
        s = make_server(start=False, extra_dns=UPDATE_ON, **cfg)
        under_fiu(s)
        return s.start() if start else s
    return start_http(factory, register_rate=0, register_rate_global=0, **http)


class Fixture:
    """An account with one acknowledged value, and the ledger of what was
    acknowledged and what was refused."""

    def __init__(self, api):
        self.api = api
        self.s = api.server
        self.acct = api.register()
        self.other = api.register()
        self.key = json.loads(self.s.ctl("account", "tsig-key", self.acct["subdomain"]).stdout)
        self.compat = api.register()
        self.compat_last = None     # the last value /update acknowledged
        self.other_disabled = False
        self.acked, self.refused = [], []
        self.add(value(1), 201)
        self.accounts = self.api.stats()["accounts"]

    def add(self, val, want, code=None):
        r = self.api.call("POST", f"/v1/accounts/{self.acct['subdomain']}/txt",
                          {"value": val}, self.acct["headers"])
        assert r.status_code == want, r.text
        if want == 201:
            self.acked.append(val)
        else:
            assert r.json()["error"] == code and r.json()["message"], r.text
            self.refused.append(val)

    def served(self, acct=None):
        """The values as DNS serves them, the same over UDP and TCP."""
        name = (acct or self.acct)["fulldomain"]
        tcp = dns_txt(self.s, name, tcp=True)
        assert tcp[0] == dns.rcode.NOERROR, tcp
        if not self.s.query(name + ".", "TXT").flags & dns.flags.TC:    # it fits in UDP
            assert dns_txt(self.s, name, tcp=False) == tcp
        if not acct:    # and the last value /update acknowledged, on its name
            compat = self.served(self.compat)
            assert compat == ([self.compat_last] if self.compat_last else []) or \
                self.compat_last in compat, compat
        return tcp[1]

    def try_everywhere(self, status, n):
        """One write on every way in, each either acknowledged (and noted)
        or refused with `status` and its JSON error; DNS serves what was
        acknowledged. Returns the ways that refused."""
        code = V1_CODE[status]
        api, acct, refused = self.api, self.acct, set()

        def outcome(way, ok, r, val=None, body=None):
            if r.status_code == ok:
                if val:
                    self.acked.append(val)
                return
            if body:
                assert (r.status_code, r.content) == (status, body), (way, r.text)
            else:
                assert r.status_code == status and r.json()["error"] == code, (way, r.text)
                assert r.json()["message"], r.text
            if val:
                self.refused.append(val)
            refused.add(way)

        r = api.call("POST", f"/v1/accounts/{acct['subdomain']}/txt", {"value": value(100 + n)},
                     acct["headers"])
        outcome("v1", 201, r, value(100 + n))
        # acme-dns's /update keeps the newest values of its name: on a name of its own
        r = api.call("POST", "/update", {"subdomain": self.compat["subdomain"],
                                         "txt": value(200 + n)}, self.compat["headers"])
        outcome("update", 200, r, body=ACMEDNS_BODY[status])
        if r.status_code == 200:
            self.compat_last = value(200 + n)
        else:
            self.refused.append(value(200 + n))
        r = api.call("POST", "/v1/batch", {"operations": [
            {"op": "add", "value": value(300 + n), "username": acct["username"],
             "key": acct["password"]}]})
        outcome("batch", 200, r, value(300 + n))
        r = api.call("POST", "/v1/register", {})
        outcome("v1/register", 201, r)
        self.accounts += r.status_code == 201
        r = api.call("POST", "/register", b"{}")
        outcome("register", 201, r, body=ACMEDNS_BODY[status])
        self.accounts += r.status_code == 201
        # a change of state each time (enabling an enabled account stores nothing)
        r = api.admin("POST", f"/accounts/{self.other['subdomain']}/"
                              f"{'enable' if self.other_disabled else 'disable'}")
        outcome("admin", 200, r)
        self.other_disabled ^= r.status_code == 200
        # RFC 2136: SERVFAIL, and not acknowledged either
        upd = f"upd-{n}"
        rcode = nsupdate(self.s, [f"update add {self.key['name']} 60 TXT {upd}"], self.key)
        assert rcode in ("NOERROR", "SERVFAIL"), rcode
        (self.acked if rcode == "NOERROR" else self.refused).append(upd)
        if rcode == "SERVFAIL":
            refused.add("rfc2136")
        assert self.served() == sorted(self.acked)
        return refused

    def refused_everywhere(self, status, n):
        """Every way in refuses a write with `status` and a JSON error; the
        state DNS serves stays the acknowledged one."""
        assert self.try_everywhere(status, n) == WAYS

    def works(self, n):
        """Writes are acknowledged again, on every way in."""
        self.add(value(400 + n), 201)
        upd = f"upd-ok-{n}"
        assert nsupdate(self.s, [f"update add {self.key['name']} 60 TXT {upd}"],
                        self.key) == "NOERROR"
        self.acked.append(upd)
        assert self.served() == sorted(self.acked)

    def survives_restart(self):
        """kill -9 and start: what was acknowledged is there, nothing refused."""
        self.s.proc.send_signal(signal.SIGKILL)
        self.s.stop()
        self.s.start()
        assert self.served() == sorted(self.acked)
        assert not set(self.refused) & set(self.served() + self.served(self.compat))
        assert self.api.stats()["accounts"] == self.accounts


def health_full(api):
    r = api.call("GET", "/v1/health")
    assert r.status_code == 200, r.text
    return r.json()["store"]["full"]


# ---- faults that clear: data pages and their sync --------------------------------

@pytest.mark.parametrize("err", [errno.EIO, errno.ENOSPC], ids=["EIO", "ENOSPC"])
@pytest.mark.parametrize("point", ["posix/io/rw/writev", "posix/io/sync/fdatasync"],
                         ids=["writev", "fdatasync"])
def test_commit_fault_clears_without_restart(make_server, point, err):
    api = start_fiu(make_server)
    f = Fixture(api)
    fiu_ctrl(f.s, on_commit(point, err))
    for n in range(2):      # the first failure leaves nothing behind that breaks the next
        f.refused_everywhere(STATUS[err], n)
    p = ctl_under_fiu(f.s, on_commit(point, err), "txt", "add", f.acct["subdomain"], value(500))
    assert p.returncode == 3 and ERRNO_TEXT[err] in p.stderr, p
    f.refused.append(value(500))
    assert health_full(api) is (err == errno.ENOSPC)
    assert f.s.proc.poll() is None

    fiu_ctrl(f.s, f"disable name={point}")
    f.works(0)
    assert health_full(api) is False
    assert f.s.ctl("txt", "add", f.acct["subdomain"], value(501)).returncode == 0
    f.acked.append(value(501))
    assert f.served() == sorted(f.acked)
    assert f.s.proc.poll() is None
    f.survives_restart()
    f.works(1)


# ---- a failed meta page write: LMDB's environment is done for ------------------------

def churn(f):
    """Values come and go: the next commits reuse pages freed here and
    there, which LMDB writes one at a time (pwrite)."""
    for i in range(CHURN):
        f.add(value(700 + i), 201)
    for i in range(CHURN):
        r = f.api.call("DELETE", f"/v1/accounts/{f.acct['subdomain']}/txt/{value(700 + i)}",
                       headers=f.acct["headers"])
        assert r.status_code in (200, 204), r.text
        f.acked.remove(value(700 + i))


@pytest.mark.parametrize("err", [errno.EIO, errno.ENOSPC], ids=["EIO", "ENOSPC"])
def test_pwrite_data_page_fault(make_server, err):
    """pwrite of a data page failing is as writev failing."""
    api = start_fiu(make_server)
    f = Fixture(api)
    churn(f)
    fiu_ctrl(f.s, on_commit("posix/io/rw/pwrite", err))
    for n in range(2):
        f.refused_everywhere(STATUS[err], n)
    assert f.s.proc.poll() is None
    fiu_ctrl(f.s, "disable name=posix/io/rw/pwrite")
    f.works(0)
    f.survives_restart()


class PinnedSnapshot:
    """An LMDB read transaction on the store, held by this process through
    liblmdb itself: no page freed after it can be reused, so every commit
    meanwhile writes its pages at the end of the file (writev), and its
    first pwrite is its meta page."""

    RDONLY = 0x20000

    def __init__(self, store):
        self.lib = ctypes.CDLL("liblmdb.so.0")
        self.env, self.txn = ctypes.c_void_p(), ctypes.c_void_p()
        assert self.lib.mdb_env_create(ctypes.byref(self.env)) == 0
        assert self.lib.mdb_env_set_maxdbs(self.env, 16) == 0
        rc = self.lib.mdb_env_open(self.env, store.encode(), self.RDONLY, 0o600)
        assert rc == 0, rc
        rc = self.lib.mdb_txn_begin(self.env, None, self.RDONLY, ctypes.byref(self.txn))
        assert rc == 0, rc

    def close(self):
        self.lib.mdb_txn_abort(self.txn)
        self.lib.mdb_env_close(self.env)


@pytest.mark.parametrize("err", [errno.EIO, errno.ENOSPC], ids=["EIO", "ENOSPC"])
def test_pwrite_meta_page_fault(make_server, err):
    """pwrite of the meta page failing leaves LMDB's environment unusable
    (MDB_PANIC), readers' included. A commit of new pages at the end of the
    file writes them with writev and reaches its meta page: acmensd stops
    by itself, with the reason, and a status that makes a service manager
    (Restart=on-failure) start it again, on the intact file."""
    import requests
    api = start_fiu(make_server)
    f = Fixture(api)
    pin = PinnedSnapshot(f.s.store)
    # Pages freed before the pin may still be reused, and written with
    # pwrite ahead of the meta page. A commit that fails there frees
    # nothing, so after each such refusal one commit goes through with the
    # fault off and uses some of them up, until a commit writes only at the
    # end of the file and reaches its meta page. (A registration: an
    # account holds only a few values.)
    panicked = False
    for n in range(40):
        fiu_ctrl(f.s, on_commit("posix/io/rw/pwrite", err))
        try:
            r = (api.call("POST", f"/v1/accounts/{f.acct['subdomain']}/txt",
                          {"value": value(600 + n)}, f.acct["headers"]),
                 api.call("POST", "/v1/register", {}))[n % 2]
        except requests.ConnectionError:
            panicked = True     # the daemon is already going
            break
        f.refused.append(value(600 + n))
        # refused as its error says; once the environment failed, writes in
        # the moment before the exit get 503
        assert r.status_code in (STATUS[err], 503), r.text
        assert r.json()["error"] == V1_CODE[r.status_code], r.text
        # the environment is marked failed before the reply goes out, and a
        # failed one answers no query
        rcode, served = dns_txt(f.s, f.acct["fulldomain"])
        if rcode != dns.rcode.NOERROR:
            assert rcode == dns.rcode.SERVFAIL
            panicked = True
            break
        assert served == sorted(f.acked)
        fiu_ctrl(f.s, "disable name=posix/io/rw/pwrite")
        api.register()
        f.accounts += 1
    assert panicked, "no commit reached its meta page"
    assert f.s.proc.wait(timeout=20) == 1
    pin.close()
    log = f.s.read_log()
    assert STORE_FAILED in log and "restart to reopen it" in log, log[-2000:]
    f.s.stop()
    f.s.start()
    assert f.served() == sorted(f.acked)
    f.works(0)
    f.survives_restart()


def test_pwrite_fault_in_acmensctl(make_server):
    """The CLI's environment is its own: it fails, the daemon serves on."""
    api = start_fiu(make_server)
    f = Fixture(api)
    p = ctl_under_fiu(f.s, on_commit("posix/io/rw/pwrite", errno.EIO),
                      "txt", "add", f.acct["subdomain"], value(2))
    assert p.returncode == 3 and "Input/output error" in p.stderr, p
    f.refused.append(value(2))
    assert f.s.proc.poll() is None
    f.works(0)
    f.survives_restart()


# ---- calls the commit does not make ----------------------------------------------------

@pytest.mark.parametrize("point", ["posix/io/sync/fsync", "posix/mm/msync",
                                   "posix/io/rw/write", "posix/mm/mmap"],
                         ids=["fsync", "msync", "write", "mmap"])
def test_calls_off_the_commit_path(make_server, point):
    """LMDB commits with pwrite, writev and fdatasync (no MDB_WRITEMAP, so
    no msync; the map is made at open): these failing inside a commit
    change nothing, and the writes acknowledged meanwhile are durable."""
    api = start_fiu(make_server)
    f = Fixture(api)
    fiu_ctrl(f.s, on_commit(point, errno.EIO))
    f.works(0)
    p = ctl_under_fiu(f.s, on_commit(point, errno.EIO), "txt", "add", f.acct["subdomain"],
                      value(2))
    assert p.returncode == 0, p
    f.acked.append(value(2))
    f.survives_restart()


def test_mmap_fault_at_open(make_server):
    """No map, no store: acmensd and acmensctl refuse to start, say why,
    and start on the same store once the map can be made."""
    api = start_fiu(make_server)
    f = Fixture(api)
    f.s.stop()
    fail_map = ("enable_stack_by_name name=posix/mm/mmap,failnum=1,failinfo=12,"
                "func_name=mdb_env_open,pos_in_stack=-1")
    f.s.argv_prefix = fiu_argv(f.s.dir, "", fail_map)
    f.s.start(wait=False)
    assert f.s.proc.wait(timeout=20) == 1
    assert "cannot open store" in f.s.read_log() and "Cannot allocate memory" in f.s.read_log()
    f.s.stop()
    p = ctl_under_fiu(f.s, fail_map, "serial")
    assert p.returncode == 3 and "Cannot allocate memory" in p.stderr, p
    under_fiu(f.s)
    f.s.start()
    assert f.served() == sorted(f.acked)
    f.works(0)


# ---- backups ------------------------------------------------------------------------------

def assert_no_backup(dest):
    """Nothing that could pass for a backup: no data.mdb, no partial copy."""
    left = os.listdir(dest) if os.path.isdir(dest) else []
    assert left == [], left


@pytest.mark.parametrize("point,err", [("posix/io/rw/write", errno.ENOSPC),
                                       ("posix/io/rw/write", errno.EIO),
                                       ("posix/io/sync/fsync", errno.EIO)],
                         ids=["write-ENOSPC", "write-EIO", "fsync-EIO"])
def test_backup_fault(make_server, point, err):
    """The copy is written by LMDB's copy thread (write) and synced
    (fsync); either failing fails the backup, with nothing left behind."""
    s = make_server()
    acct = s.register()
    s.ctl("txt", "add", acct["subdomain"], value(1))
    dest = os.path.join(s.dir, "backup")
    p = ctl_under_fiu(s, f"enable name={point},failnum=1,failinfo={err}", "backup", dest)
    assert p.returncode == 3, p
    assert f"backup to {dest} failed: {ERRNO_TEXT[err]}" in p.stderr, p.stderr
    assert_no_backup(dest)
    assert s.ctl("backup", dest).returncode == 0
    assert sorted(os.listdir(dest)) in (["data.mdb"], ["data.mdb", "lock.mdb"])


# ---- a full disk ------------------------------------------------------------------------

@pytest.fixture
def tmpfs(tmp_path):
    """mount(name, size): a tmpfs of that size, unmounted at the end (ask for
    it before make_server, so that the daemons stop first)."""
    mounted = []

    def mount(name, size):
        path = tmp_path / name
        path.mkdir()
        p = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size},mode=0700", "tmpfs",
                            str(path)], capture_output=True, text=True)
        if p.returncode != 0:
            pytest.skip(f"cannot mount a tmpfs here (the suite runs as root in CI): "
                        f"{p.stderr.strip()}")
        mounted.append(path)
        return str(path)

    yield mount
    for path in mounted:
        subprocess.run(["umount", "-l", str(path)], check=False)


def fill_fs(path, leave):
    """A filler file taking all but about `leave` bytes of path's filesystem."""
    st = os.statvfs(path)
    free = st.f_bavail * st.f_frsize
    filler = os.path.join(path, "filler")
    with open(filler, "wb") as f:
        f.write(b"\0" * max(0, free - leave))
    return filler


def test_full_disk(tmpfs, make_server):
    """The store on a 2 MiB filesystem with store.max_size 64M: the disk
    fills before the map. Writes and registrations fail with 507, what is
    stored is served, and deleting a file makes room: writes work again
    without a restart, and everything acknowledged survives one."""
    mnt = tmpfs("disk", "2m")

    def factory(start=True, **cfg):
        s = make_server(start=False, extra_dns=UPDATE_ON, **cfg)
        s.store = os.path.join(mnt, "store")
        s.reconfigure()
        with open(s.config) as fh:
            text = fh.read()
        with open(s.config, "w") as fh:
            fh.write(text.replace(f"  path: {s.store}\n", f"  path: {s.store}\n  max_size: 64M\n"))
        return s.start() if start else s

    api = start_http(factory, register_rate=0, register_rate_global=0,
                     zone={"txt_max_values": 64})
    f = Fixture(api)
    filler = fill_fs(mnt, 64 * 1024)
    registered, statuses = 0, []
    for _ in range(2000):
        r = api.call("POST", "/v1/register", {})
        statuses.append(r.status_code)
        if r.status_code != 201:
            break
        registered += 1
    assert statuses[-1] == 507, statuses[-5:]
    assert r.json() == {"error": "insufficient_storage",
                        "message": "no space left on the store's disk"}
    f.accounts += registered
    # a write that fits in pages the file already has may still pass, but
    # the disk fills again and every way in meets a 507, never a 500
    seen = set()
    for n in range(20):     # 60 values at most on the name
        seen |= f.try_everywhere(507, n)
        if seen == WAYS:
            break
    assert seen == WAYS
    assert health_full(api) is True
    assert f.s.proc.poll() is None
    p = f.s.ctl("txt", "add", f.acct["subdomain"], value(500), check=False, json_out=False)
    assert p.returncode == 3 and "No space left on device" in p.stderr, p
    f.refused.append(value(500))

    os.unlink(filler)
    f.works(0)
    assert health_full(api) is False
    api.register()
    f.accounts += 1
    f.survives_restart()


def test_backup_to_full_disk(tmpfs, make_server):
    """acmensctl backup to a filesystem without room for the copy: a clear
    message, a non-zero exit, and no file that looks like a backup; with
    room made, the same command succeeds."""
    s = make_server()
    for i in range(20):
        s.ctl("txt", "add", s.register()["subdomain"], value(i))
    mnt = tmpfs("dest", "1m")
    filler = fill_fs(mnt, 16 * 1024)
    dest = os.path.join(mnt, "backup")
    p = s.ctl("backup", dest, check=False, json_out=False)
    assert p.returncode == 3, p
    assert f"backup to {dest} failed: No space left on device" in p.stderr, p.stderr
    assert p.stdout == ""
    assert_no_backup(dest)
    # an empty directory the operator made stays, and empty
    os.mkdir(dest)
    p = s.ctl("backup", dest, check=False, json_out=False)
    assert p.returncode == 3 and "No space left on device" in p.stderr, p
    assert os.listdir(dest) == []
    os.unlink(filler)
    out = json.loads(s.ctl("backup", dest).stdout)
    assert out["accounts"] == 20 and out["values"] == 20
    shutil.rmtree(dest)


def test_max_size_change_needs_restart(make_server):
    """store.max_size is the map's size, which LMDB changes only with no
    transaction open in the process (the DNS workers always have readers):
    a reload says a restart applies it, and the restart does."""
    api = start_http(make_server, register_rate=0, register_rate_global=0)
    s = api.server
    s.stop()
    with open(s.config) as fh:
        text = fh.read()
    with open(s.config, "w") as fh:
        fh.write(text.replace(f"  path: {s.store}\n", f"  path: {s.store}\n  max_size: 1M\n"))
    s.start()
    for _ in range(3000):
        r = api.call("POST", "/v1/register", {})
        if r.status_code != 201:
            break
    assert r.status_code == 507 and r.json()["message"] == "the store is full", r.text
    with open(s.config) as fh:
        text = fh.read()
    with open(s.config, "w") as fh:
        fh.write(text.replace("max_size: 1M", "max_size: 4M"))
    s.proc.send_signal(signal.SIGHUP)
    assert wait_for(lambda: "configuration reloaded" in s.read_log(), 5)
    assert ('msg="reload: not applied, needs a restart" key=store.max_size running=1048576 '
            'file=4194304') in s.read_log(), s.read_log()
    # still the old map: a registration may fit in pages freed since, but
    # the store is full again soon
    statuses = [api.call("POST", "/v1/register", {}).status_code for _ in range(50)]
    assert set(statuses) <= {201, 507} and 507 in statuses, statuses
    s.stop()
    s.start()
    assert api.call("POST", "/v1/register", {}).status_code == 201
    assert health_full(api) is False


def test_map_grown_by_another_process(make_server, tmp_path):
    """acmensctl with a larger store.max_size grows the file past the
    daemon's map. LMDB may remap only while no transaction of the process is
    open, which the DNS workers' readers never allow: instead of remapping
    under them (a crash waiting to happen), acmensd exits with the reason and
    a status for the service manager, and its restart maps the file whole
    and serves what acmensctl wrote."""
    import time
    from acmedns_bulk import write_bulk_db
    api = start_http(make_server, register_rate=0, register_rate_global=0)
    s = api.server
    acct = api.register()
    assert api.call("POST", f"/v1/accounts/{acct['subdomain']}/txt", {"value": value(1)},
                    acct["headers"]).status_code == 201
    s.stop()
    with open(s.config) as fh:
        text = fh.read()
    with open(s.config, "w") as fh:
        fh.write(text.replace(f"  path: {s.store}\n", f"  path: {s.store}\n  max_size: 1M\n"))
    bigger = str(tmp_path / "bigger.yaml")
    with open(bigger, "w") as fh:
        fh.write(text.replace(f"  path: {s.store}\n", f"  path: {s.store}\n  max_size: 8M\n"))
    s.start()
    assert dns_txt(s, acct["fulldomain"]) == (dns.rcode.NOERROR, [value(1)])
    db = str(tmp_path / "many.db")
    write_bulk_db(db, 3000, int(time.time()))
    p = subprocess.run([ACMENSCTL, "-c", bigger, "import-acmedns", db], capture_output=True,
                       text=True, timeout=120)
    assert p.returncode == 0, p.stderr
    assert os.path.getsize(os.path.join(s.store, "data.mdb")) > 1 << 20
    # the next batch of queries meets the grown map
    for _ in range(50):
        if s.proc.poll() is not None:
            break
        try:
            dns_txt(s, acct["fulldomain"])
        except Exception:       # the daemon is going
            break
    assert s.proc.wait(timeout=20) == 1
    log = s.read_log()
    assert "store grown by another process; exiting to map it whole" in log, log[-2000:]
    assert "sanitizer" not in log.lower(), log[-2000:]
    s.stop()
    s.start()
    assert dns_txt(s, acct["fulldomain"]) == (dns.rcode.NOERROR, [value(1)])
    listed = s.ctl("account", "list", "--limit", "10000")
    assert listed.stdout.count('"subdomain"') == 3001, listed.stdout[-500:]
