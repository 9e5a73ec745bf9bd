"""Settings package: ``base`` is shared; ``local``, ``test`` and ``production`` add to it."""
