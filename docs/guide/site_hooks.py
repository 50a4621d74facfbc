"""mkdocs hooks for the psviz site (named under `hooks:` in mkdocs.yml; not a page: exclude_docs leaves out *.py).

* The notebooks in notebooks/ become pages under notebooks/, rendered (not run) by mkdocs-jupyter.
* A Markdown link that leaves docs/ for a file of the repository, such as `../results/small/table.csv` in
  docs/RESULTS.md, has no page in the site. It is written as that file's path in code type, with the link's words
  kept. A link that leaves docs/ for a file that does not exist is left as it is, so that the strict build fails on
  it as on any other broken link.
"""

from __future__ import annotations

import posixpath
import re
from pathlib import Path

from mkdocs.plugins import event_priority
from mkdocs.structure.files import File

LINK = re.compile(r"(!?)\[([^\]\n]*)\]\(([^)\s]+)\)")
FENCE = re.compile(r"^\s*(```|~~~)")


def _repository(config) -> Path:
    return Path(config.config_file_path).resolve().parent


@event_priority(100)  # before mkdocs-jupyter's on_files, which turns .ipynb files into pages
def on_files(files, config):
    root = _repository(config)
    for notebook in sorted((root / "notebooks").glob("*.ipynb")):
        files.append(File(f"notebooks/{notebook.name}", src_dir=str(root), dest_dir=config.site_dir,
                          use_directory_urls=config.use_directory_urls))
    return files


def _outside_target(link: str, page_uri: str, docs: Path, root: Path) -> str | None:
    """The repository path a relative link leaves docs/ for, when that file exists; None otherwise."""
    if re.match(r"^[a-z][a-z0-9+.-]*:|^/|^#", link, re.IGNORECASE):
        return None
    path = link.split("#", 1)[0]
    if not posixpath.normpath(posixpath.join(posixpath.dirname(page_uri), path)).startswith("../"):
        return None
    target = (docs / posixpath.dirname(page_uri) / path).resolve()
    if not target.exists() or not target.is_relative_to(root):
        return None
    return target.relative_to(root).as_posix()


def on_page_markdown(markdown, page, config, files):
    docs, root = Path(config.docs_dir).resolve(), _repository(config)

    def rewrite(match: re.Match) -> str:
        target = _outside_target(match.group(3), page.file.src_uri, docs, root)
        if target is None:
            return match.group(0)
        words = match.group(2).strip()
        return f"`{target}`" if words.strip("`") in ("", target, Path(target).name) else f"{words} (`{target}`)"

    lines, fenced = [], False
    for line in markdown.split("\n"):
        if FENCE.match(line):
            fenced = not fenced
        lines.append(line if fenced else LINK.sub(rewrite, line))
    return "\n".join(lines)
