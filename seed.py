import sys; sys.path.insert(0, "/work/main/bench")
from pathlib import Path
from _common import settings_for
from ombud.bootstrap import bootstrap
import intake
c = bootstrap(settings_for(sys.argv[1], Path(sys.argv[2])), fast_password_hashing=True)
c.migrations.upgrade()
print(intake.seed(c))
