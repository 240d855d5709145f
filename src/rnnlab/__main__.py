"""``python -m rnnlab …`` works like ``rnnlab …`` (and so ``torchrun -m rnnlab …``)."""

from rnnlab.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
