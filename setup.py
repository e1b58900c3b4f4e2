"""Build hook: compile the gettext catalogues (longctx_lab/locale/*/LC_MESSAGES/*.po) into .mo files in the wheel.

Everything else is in pyproject.toml. An editable install compiles nothing here: core/i18n.py compiles a
missing or stale catalogue on first use into $LONGCTX_LAB_CACHE/locale.
"""
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py


class build_py_with_catalogues(build_py):
    def run(self):
        super().run()
        from babel.messages.mofile import write_mo
        from babel.messages.pofile import read_po

        for po in Path("longctx_lab", "locale").glob("*/LC_MESSAGES/*.po"):
            target = Path(self.build_lib) / po.with_suffix(".mo")
            target.parent.mkdir(parents=True, exist_ok=True)
            with open(po, "rb") as source, open(target, "wb") as out:
                write_mo(out, read_po(source), use_fuzzy=False)


setup(cmdclass={"build_py": build_py_with_catalogues})
