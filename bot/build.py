"""Builds everything derived from the catalog: database, NLU data, jieba dictionary."""

from __future__ import annotations

from bot.catalog.loader import load_valid_catalog
from bot.catalog.model import Catalog
from bot.db.build import catalog_fingerprint, rebuild, stored_version
from bot.db.session import make_engine
from bot.nlu.generate import write_jieba_dictionary, write_nlu
from bot.settings import BUILD_DIR, GENERATED_NLU, JIEBA_DICT_DIR, SCENARIOS_DIR, database_url


def build(url: str | None = None, force: bool = False) -> Catalog:
    """Validate the catalog, regenerate derived files, and rebuild the database when the catalog changed."""
    catalog = load_valid_catalog(SCENARIOS_DIR)
    BUILD_DIR.mkdir(parents=True, exist_ok=True)
    write_nlu(catalog, GENERATED_NLU)
    write_jieba_dictionary(catalog, JIEBA_DICT_DIR)
    version = catalog_fingerprint(SCENARIOS_DIR)
    engine = make_engine(url or database_url())
    try:
        if force or stored_version(engine) != version:
            rebuild(engine, catalog, version)
            print(f"数据库已重建：{engine.url.render_as_string(hide_password=True)}"
                  f"（{len(catalog.categories)} 个分类，{catalog.scenario_count} 个情景）")
    finally:
        engine.dispose()
    return catalog
