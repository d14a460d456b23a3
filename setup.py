"""The wheel carries the top-level `notebooks/` and `data_dictionary/` inside the package.

A clone keeps them at the top level (the design card's layout); `build_py` copies them to
`outcomes/notebooks/` and `outcomes/data_dictionary/` of the build, so a wheel (built from the
clone or from the sdist, which carries them through MANIFEST.in) installs them where
`outcomes.resources` looks. An editable install copies nothing: it reads the clone's folders.
"""

from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

ROOT = Path(__file__).resolve().parent
#: top-level folder -> the file patterns the wheel carries from it (inside outcomes/<folder>/)
SHIPPED = {
    "notebooks": ("*.ipynb", "*.py", "*.md", "*.toml"),
    "data_dictionary": ("*.md", "tables/*.yaml", "codes/*.yaml"),
}


class build_py_with_top_level_data(build_py):
    """build_py, then the top-level data folders copied into the built package."""

    def run(self):
        super().run()
        if getattr(self, "editable_mode", False):
            return
        for folder, patterns in SHIPPED.items():
            source = ROOT / folder
            if not source.is_dir():
                raise FileNotFoundError(f"cannot build outcomes: the folder {source} is missing")
            for pattern in patterns:
                for path in sorted(source.glob(pattern)):
                    target = Path(self.build_lib, "outcomes", folder, path.relative_to(source))
                    self.mkpath(str(target.parent))
                    self.copy_file(str(path), str(target))


setup(cmdclass={"build_py": build_py_with_top_level_data})
