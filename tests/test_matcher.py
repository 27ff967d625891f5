"""The catalog phrase matcher reads business names and answers out of free Chinese text."""

from __future__ import annotations

from bot.nlu.matcher import PhraseFinder


def values(finder: PhraseFinder, text: str, entity: str) -> list[str]:
    return [m.value for m in finder.find(text) if m.entity == entity]


def test_business_keywords_name_the_category(finder: PhraseFinder) -> None:
    assert values(finder, "孩子出生一年多了还没报户口", "category") == ["birth"]
    assert "id_card" in values(finder, "我身份证丢了怎么补办", "category")


def test_negated_answer_is_not_taken(finder: PhraseFinder) -> None:
    said = values(finder, "孩子在香港出生的", "fact")
    denied = values(finder, "孩子不是在香港出生的", "fact")
    assert "birth:birthplace=hkmo" in said
    assert "birth:birthplace=hkmo" not in denied


def test_empty_emoji_garbage_and_huge_input(finder: PhraseFinder) -> None:
    assert finder.find("") == [] and finder.find("   ") == []
    assert finder.find("😀😀😀") == []
    assert finder.find("asdf;lkj!!@@##") == []
    huge = "老婆生了孩子" * 5000
    assert any(m.value == "birth:marital=married" for m in finder.find(huge))


def test_sound_alike_characters_from_speech_recognition(finder: PhraseFinder) -> None:
    facts = values(finder, "孩子没有出生医学正明", "fact")
    assert "birth:birth_cert=missing_hospital" in facts
    assert "birth:gz_hukou=both" in values(finder, "我们都是广州户扣", "fact")


def test_sound_alike_needs_most_characters_right(finder: PhraseFinder) -> None:
    from bot.nlu.homophones import SoundAlikeIndex

    index = SoundAlikeIndex(["出生医学证明"])
    assert index.find("出生医学正明", []) == [(0, 6, "出生医学证明")]
    assert index.find("础声仪穴正鸣", []) == []  # same sounds, different words
    assert index.find("出生医学正明", [(0, 2)]) == []  # already matched text is not read twice


def test_categories_are_ranked_by_evidence_and_guessed_when_unnamed(catalog) -> None:  # noqa: ANN001
    from bot.nlu.category_classifier import CategoryClassifier, training_examples
    from bot.nlu.entity_extractor import catalog_entities
    from bot.nlu.matcher import PhraseFinder

    finder, classifier = PhraseFinder.for_catalog(catalog), CategoryClassifier(training_examples(catalog))
    # a newborn for a unit collective household is a case of both businesses: both are read
    text = "我户口在单位集体户，孩子刚出生一周，能落到集体户吗"
    both = [e["value"] for e in catalog_entities(finder, classifier, text) if e["entity"] == "category"]
    assert set(both) == {"collective", "birth"}
    guessed = catalog_entities(finder, classifier, "出世纸攞咗，BB要点样入户？")
    assert [(e["value"], e.get("role")) for e in guessed if e["entity"] == "category"] == [("birth", "inferred")]
    assert not [e for e in catalog_entities(finder, classifier, "。。。") if e["entity"] == "category"]


def test_a_named_keyword_is_evidence_not_proof(catalog) -> None:  # noqa: ANN001
    from bot.nlu.category_classifier import CategoryClassifier, training_examples
    from bot.nlu.entity_extractor import catalog_entities
    from bot.nlu.matcher import PhraseFinder

    classifier = CategoryClassifier(training_examples(catalog))
    finder = PhraseFinder.for_catalog(catalog)

    def first(text: str) -> str | None:
        return next((e["value"] for e in catalog_entities(finder, classifier, text) if e["entity"] == "category"),
                    None)

    # 军人 names 入伍/退役, but the sentence asks where a newborn is registered
    assert first("老公是军人，我不是，孩子可以落在爷爷奶奶户口上吗？") == "birth"
    assert first("我儿子下个月要去当兵了，户口要迁走吗") == "military"
    # the classifier knows what is not 户政: no business is guessed for it
    assert first("公积金怎么提取出来") is None


def test_an_answer_routes_the_message_to_the_business_that_answers_it(catalog) -> None:  # noqa: ANN001
    from bot.nlu.category_classifier import CategoryClassifier, training_examples
    from bot.nlu.entity_extractor import catalog_entities, catalog_routes

    finder, classifier = PhraseFinder.for_catalog(catalog), CategoryClassifier(training_examples(catalog))
    routes = catalog_routes(catalog)
    # 挂失 and 招领 are 异地受理's whatever the hukou (audit docs/audits/stop20-routes-and-examples.md): one way only
    assert routes == {"id_card:hukou=other": "id_remote"}

    def first(text: str) -> str | None:
        return next((e["value"] for e in catalog_entities(finder, classifier, text, routes=routes)
                     if e["entity"] == "category"), None)

    # the same loss, two businesses: where the hukou is decides
    assert first("我是湖南户口，在广州上班，身份证丢了怎么补办") == "id_remote"
    assert first("我是番禺户口，身份证丢了怎么补办") == "id_card"
    # the keyword 身份证 alone keeps the business it names; the answer moves it
    text = "身份证过期了换证，我是外省户口"
    alone = [e["value"] for e in catalog_entities(finder, classifier, text, routes={}) if e["entity"] == "category"]
    assert alone[:1] == ["id_card"] and first(text) == "id_remote"


def test_a_business_added_after_a_joining_word_is_named_without_its_keyword(catalog) -> None:  # noqa: ANN001
    from bot.consult.interpret import read_entities
    from bot.nlu.category_classifier import CategoryClassifier, training_examples
    from bot.nlu.entity_extractor import catalog_entities

    finder, classifier = PhraseFinder.for_catalog(catalog), CategoryClassifier(training_examples(catalog))
    known = {c.code for c in catalog.categories}

    def businesses(text: str) -> list[str]:
        return read_entities(catalog_entities(finder, classifier, text)).businesses(text, None, known)

    assert businesses("退伍回来落户，还想把老婆的户口也迁过来") == ["military", "family"]
    # neither part names its keyword
    assert businesses("我爸走了要销户口，还要开个注销证明") == ["death", "certificate"]
    assert businesses("我想给自己改个名字 改完身份证是不是也要重新办") == ["name_change", "id_card"]  # from its clause
    assert businesses("孩子上户口，顺便我身份证也要换") == ["birth", "id_card"]
    assert businesses("孩子上户口要带什么，还想问一下要不要预约") == []  # the added part is no business
