import sys

from vaultaio_constructs.verify.cli import main

sys.exit(main())
