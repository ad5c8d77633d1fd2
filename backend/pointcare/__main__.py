"""``python -m pointcare`` and the ``pointcare`` command.

The server settles its process first, before the command line's modules are imported: a
setting glibc reads only as a process starts (huge pages for large blocks, see
:mod:`pointcare.serving.malloc`) may make it start itself again.
"""

import sys


def main() -> int:
    if sys.argv[1:2] == ["serve"]:
        from pointcare.serving.malloc import start_again_with_huge_pages

        start_again_with_huge_pages([sys.executable, *sys.orig_argv[1:]])
    from pointcare.cli import main as command

    return command()


if __name__ == "__main__":
    sys.exit(main())
