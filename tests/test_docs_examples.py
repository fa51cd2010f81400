"""Every example of the pages whose code blocks are complete programs runs as written."""
from __future__ import annotations

import pytest

from tests._docs import doc_blocks, run_block

PAGES = ("regression.md", "rl.md", "multitask.md", "sparse.md", "ordinal.md")


@pytest.mark.parametrize("page,index", [(p, i) for p in PAGES for i in range(len(doc_blocks(p)))])
def test_docs_examples_run(page, index):
    run_block(page, index)
