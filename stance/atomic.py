"""Atomic file writes: a reader sees the old file or the new one, never a torn one."""

import contextlib
import os
import stat
import tempfile
from pathlib import Path

from stance.errors import OutputError

try:
    import fcntl
except ImportError:  # Windows: no flock; writes stay atomic, only the lock is skipped
    fcntl = None


@contextlib.contextmanager
def atomic_write(path, mode="wb", encoding=None, newline=None):
    """Write to a temporary file beside ``path``, fsync it, then ``os.replace`` it.

    The old file's permission bits are kept. On any exception the temporary
    file is removed and ``path`` is left untouched. Failures of the write
    itself (missing folder, no permission, disk full) raise OutputError.
    """
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    except OSError as exc:
        raise OutputError(path, _write_problem(exc, path)) from None
    try:
        try:
            handle = os.fdopen(fd, mode, encoding=encoding, newline=newline)
        except BaseException:
            os.close(fd)
            raise
        try:
            yield handle
            try:
                handle.flush()
                os.fsync(handle.fileno())
                handle.close()
            except OSError as exc:
                raise OutputError(path, _write_problem(exc, path)) from None
        finally:
            # Already closed on success; on failure the file is discarded, so a
            # second flush error (disk still full) must not mask the first.
            with contextlib.suppress(OSError):
                handle.close()
        try:
            os.chmod(tmp, _mode_for(path))
            os.replace(tmp, path)
        except OSError as exc:
            raise OutputError(path, _write_problem(exc, path)) from None
        _fsync_dir(path.parent)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def atomic_write_files(items):
    """Replace several files, given as ``(path, bytes)`` pairs, as nearly together as can be.

    Every file is first written and fsynced to a temporary file beside its
    target; only then are they moved into place one after another, so a crash
    while writing (the long part) leaves all the old files, and the moment in
    which some are new and some old is just the few renames at the end.
    """
    staged = []
    try:
        for path, data in items:
            path = Path(path)
            try:
                path.parent.mkdir(parents=True, exist_ok=True)
                fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp",
                                           dir=path.parent)
            except OSError as exc:
                raise OutputError(path, _write_problem(exc, path)) from None
            staged.append((path, tmp))
            try:
                with os.fdopen(fd, "wb") as handle:
                    handle.write(data)
                    handle.flush()
                    os.fsync(handle.fileno())
                os.chmod(tmp, _mode_for(path))
            except OSError as exc:
                raise OutputError(path, _write_problem(exc, path)) from None
        while staged:
            path, tmp = staged[0]
            try:
                os.replace(tmp, path)
            except OSError as exc:
                raise OutputError(path, _write_problem(exc, path)) from None
            staged.pop(0)
            _fsync_dir(path.parent)
    except BaseException:
        for _, tmp in staged:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
        raise


def lock_path(path):
    """The lock file guarding ``path``: a hidden ``.<name>.lock`` beside it."""
    path = Path(path)
    return path.with_name(f".{path.name}.lock")


@contextlib.contextmanager
def file_lock(path, shared=False):
    """Hold an ``flock`` on the lock file beside ``path`` for the ``with`` block.

    Writers take it exclusively so that files written together (a model and
    its manifest) come from one writer. A shared lock (for readers) is only
    taken when the lock file already exists, so reading from a read-only
    folder never fails for want of a lock.
    """
    if fcntl is None:
        yield
        return
    lock = lock_path(path)
    if shared:
        try:
            fd = os.open(lock, os.O_RDONLY)
        except OSError:
            yield
            return
    else:
        try:
            lock.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o666)
        except OSError as exc:
            raise OutputError(path, _write_problem(exc, path)) from None
    try:
        fcntl.flock(fd, fcntl.LOCK_SH if shared else fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def _write_problem(exc, path):
    reason = exc.strerror or str(exc)
    where = exc.filename
    if isinstance(exc, FileExistsError):  # from mkdir: a file stands where a folder should
        reason = "Not a directory"
    if where and Path(where) != Path(path) and not Path(where).name.startswith(f".{path.name}."):
        return f"cannot write ({where}: {reason})"
    return f"cannot write ({reason})"


def _mode_for(path):
    """Permission bits for the new file: the old file's, else what umask allows."""
    try:
        return stat.S_IMODE(path.stat().st_mode)
    except OSError:
        return 0o666 & ~_umask()


def _umask():
    # Reading it from /proc avoids os.umask's set-and-restore, which races with threads.
    with contextlib.suppress(OSError, ValueError):
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _fsync_dir(folder):
    with contextlib.suppress(OSError):
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
