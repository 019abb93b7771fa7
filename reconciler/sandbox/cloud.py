"""Cloud buckets as local directories: remote URL → directory, and what a scan finds there.

An integration has a provider and a root directory standing in for the provider's storage:

    s3://bucket/prefix/                               → ROOT/bucket/prefix/
    gs://bucket/prefix/                               → ROOT/bucket/prefix/
    https://acct.blob.core.windows.net/container/p/   → ROOT/container/p/

A URL whose scheme does not match the provider, or that would leave the root, is refused.
Nothing here touches the database; ``jobs`` applies a ``Scan`` to the store.
"""

from __future__ import annotations

import os
import struct
from dataclasses import dataclass
from pathlib import Path
from stat import S_ISREG
from urllib.parse import urlsplit

from reconciler.sandbox.errors import bad_request

_AZURE_HOST_SUFFIX = ".blob.core.windows.net"
_SCHEMES = {"s3": "s3", "gcp": "gs", "azure": "https"}

# File extension → (StorageItemType wire value, MIME type). Other files are skipped.
FILE_TYPES: dict[str, tuple[str, str]] = {
    ".jpg": ("image", "image/jpeg"),
    ".jpeg": ("image", "image/jpeg"),
    ".png": ("image", "image/png"),
    ".webp": ("image", "image/webp"),
    ".bmp": ("image", "image/bmp"),
    ".tif": ("image", "image/tiff"),
    ".tiff": ("image", "image/tiff"),
    ".gif": ("image", "image/gif"),
    ".mp4": ("video", "video/mp4"),
    ".mov": ("video", "video/quicktime"),
    ".avi": ("video", "video/x-msvideo"),
    ".mkv": ("video", "video/x-matroska"),
    ".webm": ("video", "video/webm"),
    ".wav": ("audio", "audio/wav"),
    ".mp3": ("audio", "audio/mpeg"),
    ".flac": ("audio", "audio/flac"),
    ".ogg": ("audio", "audio/ogg"),
    ".m4a": ("audio", "audio/mp4"),
    ".dcm": ("dicomFile", "application/dicom"),
    ".nii": ("nifti", "application/octet-stream"),
    ".nii.gz": ("nifti", "application/gzip"),
    ".txt": ("plainText", "text/plain"),
    ".json": ("plainText", "application/json"),
    ".html": ("plainText", "text/html"),
    ".md": ("plainText", "text/markdown"),
    ".csv": ("plainText", "text/csv"),
    ".pdf": ("pdf", "application/pdf"),
}


@dataclass(frozen=True, slots=True)
class RemoteLocation:
    """Where a remote URL lives locally: its bucket (container) and its prefix directory."""

    bucket: Path
    directory: Path


def remote_location(provider: str, root: str, remote_url: str) -> RemoteLocation:
    """The directories standing in for ``remote_url``; 400 for a foreign scheme or an escape."""
    parts = _url_parts(provider, remote_url)
    if any(part in ("..", ".") for part in parts):
        raise bad_request(f"remoteUrl must not contain '.' or '..' segments: {remote_url}")
    base = Path(root).resolve()
    directory = base.joinpath(*parts).resolve()
    if not directory.is_relative_to(base):
        raise bad_request(f"remoteUrl {remote_url} points outside the integration's storage")
    return RemoteLocation(bucket=base / parts[0], directory=directory)


def object_file(provider: str, root: str, url: str, checked: dict[str, bool]) -> Path | None:
    """The regular file standing in for object ``url``, or None when there is none inside the
    integration's root; 400 for a foreign scheme or '.'/'..' segments. ``checked`` caches,
    per directory, whether its real path is inside the root (the caller's batch shares it:
    resolving every object's path on its own was most of a registration's time)."""
    parts = _url_parts(provider, url)
    if any(part in ("..", ".") for part in parts):
        raise bad_request(f"object URL must not contain '.' or '..' segments: {url}")
    directory = os.path.join(root, *parts[:-1])
    inside = checked.get(directory)
    if inside is None:
        base = os.path.realpath(root)
        real = os.path.realpath(directory)
        inside = checked[directory] = real == base or real.startswith(base + os.sep)
    path = os.path.join(directory, parts[-1])
    try:
        regular = inside and S_ISREG(os.lstat(path).st_mode)
    except OSError:
        regular = False
    return Path(path) if regular else None


def _url_parts(provider: str, remote_url: str) -> list[str]:
    url = urlsplit(remote_url)
    scheme = _SCHEMES.get(provider)
    if scheme is None or url.scheme != scheme:
        raise bad_request(
            f"remoteUrl {remote_url} does not fit a {provider} integration "
            f"(expected a {scheme}:// URL)"
        )
    segments = [segment for segment in url.path.split("/") if segment]
    if provider == "azure":
        if not url.netloc.endswith(_AZURE_HOST_SUFFIX) or not segments:
            raise bad_request(
                f"remoteUrl {remote_url} is not https://ACCOUNT{_AZURE_HOST_SUFFIX}/CONTAINER/..."
            )
        return segments
    if not url.netloc:
        raise bad_request(f"remoteUrl {remote_url} names no bucket")
    return [url.netloc, *segments]


def file_url(remote_url: str, relpath: str) -> str:
    """The remote URL of a file at ``relpath`` (POSIX) below the folder's ``remote_url``."""
    return remote_url.rstrip("/") + "/" + relpath


def classify(name: str) -> tuple[str, str] | None:
    lowered = name.lower()
    if lowered.endswith(".nii.gz"):
        return FILE_TYPES[".nii.gz"]
    return FILE_TYPES.get(os.path.splitext(lowered)[1])


@dataclass(frozen=True, slots=True)
class ScannedFile:
    relpath: str  # POSIX, relative to the scanned directory
    size: int
    mtime_ns: int


@dataclass(frozen=True, slots=True)
class Scan:
    """Directories (parents before children) and files found below one directory."""

    dirs: tuple[str, ...]
    files: tuple[ScannedFile, ...]


def scan(location: RemoteLocation) -> Scan:
    """Walk the prefix directory; hidden entries (names starting with '.') are not objects.

    Only regular files are objects and only real directories are walked: a symbolic link
    could lead outside the bucket (and leak what it points at into item sizes and image
    headers), and a FIFO or device would block the sync that opens it.

    Object stores have no directories: a prefix whose directory is gone simply lists empty.
    A missing bucket, though, is an error (the sync fails rather than tombstone everything).
    """
    directory = location.directory
    if not location.bucket.is_dir():
        raise FileNotFoundError(f"bucket directory {location.bucket} does not exist")
    if not directory.is_dir():
        return Scan((), ())
    dirs: list[str] = []
    files: list[ScannedFile] = []
    for current, subdirs, names in os.walk(directory):
        base = Path(current).relative_to(directory).as_posix()
        prefix = "" if base == "." else base + "/"
        subdirs[:] = sorted(
            d for d in subdirs if not d.startswith(".") and not os.path.islink(f"{current}/{d}")
        )
        dirs.extend(prefix + d for d in subdirs)
        for name in sorted(n for n in names if not n.startswith(".")):
            stat = os.lstat(os.path.join(current, name))
            if S_ISREG(stat.st_mode):
                files.append(ScannedFile(prefix + name, stat.st_size, stat.st_mtime_ns))
    return Scan(tuple(sorted(dirs, key=lambda d: (d.count("/"), d))), tuple(files))


# --- image headers ---------------------------------------------------------------------------

_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_JPEG_SOF = {0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF}


def image_size(path: Path) -> tuple[int, int] | None:
    """(width, height) from a PNG or JPEG header; None for other formats or unreadable files."""
    try:  # O_NONBLOCK and O_NOFOLLOW: a file swapped for a FIFO or a link since the scan
        descriptor = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_NOFOLLOW)
        with os.fdopen(descriptor, "rb") as handle:
            head = handle.read(65536)
    except OSError:
        return None
    if head.startswith(_PNG_SIGNATURE) and head[12:16] == b"IHDR" and len(head) >= 24:
        width, height = struct.unpack(">II", head[16:24])
        return int(width), int(height)
    if head.startswith(b"\xff\xd8"):
        return _jpeg_size(head)
    return None


def _jpeg_size(data: bytes) -> tuple[int, int] | None:
    offset = 2
    while offset + 9 <= len(data):
        if data[offset] != 0xFF:
            return None
        marker = data[offset + 1]
        if marker == 0xFF:  # fill byte
            offset += 1
            continue
        length = struct.unpack(">H", data[offset + 2 : offset + 4])[0]
        if marker in _JPEG_SOF:
            height, width = struct.unpack(">HH", data[offset + 5 : offset + 9])
            return int(width), int(height)
        offset += 2 + length
    return None
