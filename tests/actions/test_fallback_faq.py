"""A message the NLU was unsure of, put out of scope or read as a search is tried on the FAQ when it
is a policy question, before "didn't catch that", the out-of-scope redirect or a search."""

from __future__ import annotations

from rasa_sdk.executor import CollectingDispatcher

from actions.fallback import ActionDefaultFallback, ActionOutOfScope
from actions.recommend import ActionRecommendProducts
from tests.actions.conftest import load_tracker, payloads, responses, slot_events


async def test_a_follow_up_policy_question_is_answered_from_the_faq(services, domain):
    tracker = load_tracker("fallback_first")
    tracker.latest_message["text"] = "and do I have to pay for return shipping?"
    dispatcher = CollectingDispatcher()
    events = await ActionDefaultFallback().run(dispatcher, tracker, domain)
    assert responses(dispatcher) == ["utter_faq_answer"]
    assert "Return shipping is free" in dispatcher.messages[0]["answer"]
    assert slot_events(events) == {"consecutive_fallbacks": 0}


async def test_an_unsure_request_for_a_person_is_honoured(services, domain):
    tracker = load_tracker("fallback_first")
    tracker.latest_message.update(text="this is useless, get me a human", intent_ranking=[
        {"name": "nlu_fallback", "confidence": 0.4}, {"name": "complaint", "confidence": 0.32},
        {"name": "switch_account", "confidence": 0.2}])  # fmt: skip
    dispatcher = CollectingDispatcher()
    events = await ActionDefaultFallback().run(dispatcher, tracker, domain)
    assert responses(dispatcher) == ["utter_complaint_handoff"]
    assert slot_events(events)["handoff_requested"] is True


async def test_a_shopping_fragment_is_searched_not_answered_from_the_faq(services, domain):
    for text, first in (("for a man, size M", "utter_ask_category"),  # nothing to search on yet
                        ("my son's 6 and needs runners for school", "utter_products_found"),
                        # a gift request that says something of the person is a search
                        ("I need a gift for my niece, she loves cosy stuff", "utter_products_found")):
        tracker = load_tracker("fallback_first")
        tracker.latest_message.update(text=text, intent_ranking=[
            {"name": "nlu_fallback", "confidence": 0.4}, {"name": "out_of_scope", "confidence": 0.37}])
        dispatcher = CollectingDispatcher()
        events = await ActionDefaultFallback().run(dispatcher, tracker, domain)
        assert responses(dispatcher)[0] == first, text  # not "didn't catch that"
        assert bool(payloads(dispatcher)) is (first == "utter_products_found")
        assert slot_events(events)["consecutive_fallbacks"] == 0 and "search_constraints" in slot_events(events)


async def test_a_message_naming_nothing_of_the_catalog_is_asked_again(services, domain):
    tracker = load_tracker("fallback_first")
    tracker.latest_message.update(text="hmm what about the thing", intent_ranking=[
        {"name": "nlu_fallback", "confidence": 0.4}, {"name": "refine_search", "confidence": 0.37}])
    dispatcher = CollectingDispatcher()
    await ActionDefaultFallback().run(dispatcher, tracker, domain)
    assert responses(dispatcher) == ["utter_default"]


async def test_a_shopping_guess_gives_way_to_the_faq_for_a_question(services, domain):
    tracker = load_tracker("fallback_first")
    tracker.latest_message.update(text="can I exchange it if it's the wrong size?", intent_ranking=[
        {"name": "nlu_fallback", "confidence": 0.4}, {"name": "reject_product", "confidence": 0.3}])
    dispatcher = CollectingDispatcher()
    await ActionDefaultFallback().run(dispatcher, tracker, domain)
    assert responses(dispatcher) == ["utter_faq_answer"]
    assert "exchange" in dispatcher.messages[0]["answer"].lower()


async def test_out_of_scope_answers_a_policy_question_and_redirects_the_rest(services, domain):
    answered = {}
    for text in ("do you price match amazon?", "what's the weather in Paris tomorrow?"):
        tracker = load_tracker("fallback_first")
        tracker.latest_message.update(text=text, intent={"name": "out_of_scope", "confidence": 1.0})
        dispatcher = CollectingDispatcher()
        assert await ActionOutOfScope().run(dispatcher, tracker, domain) == []
        answered[text] = (responses(dispatcher), dispatcher.messages[0].get("answer") or "")
    assert answered["do you price match amazon?"][0] == ["utter_faq_answer"]
    assert "price" in answered["do you price match amazon?"][1].lower()
    assert answered["what's the weather in Paris tomorrow?"] == (["utter_out_of_scope"], "")


async def test_a_policy_question_read_as_a_search_is_answered_and_the_search_kept(services, domain):
    tracker = load_tracker("search_running_shoes_under_80")
    before = tracker.get_slot("search_constraints")
    tracker.latest_message.update(text="do you have a size guide for running shoes?", entities=[])
    dispatcher = CollectingDispatcher()
    events = await ActionRecommendProducts().run(dispatcher, tracker, domain)
    assert responses(dispatcher) == ["utter_faq_answer"] and payloads(dispatcher) == []
    assert "size" in dispatcher.messages[0]["answer"].lower()
    assert events == [] and tracker.get_slot("search_constraints") == before


async def test_a_question_that_sets_a_filter_stays_a_search(services, domain):
    tracker = load_tracker("search_running_shoes_under_80")
    tracker.latest_message.update(text="do you have Nike running shoes?", entities=[])
    dispatcher = CollectingDispatcher()
    events = await ActionRecommendProducts().run(dispatcher, tracker, domain)
    assert responses(dispatcher)[0].startswith("utter_products_") and payloads(dispatcher)
    assert slot_events(events)["search_constraints"]["brands"] == ["Nike"]


async def test_a_product_the_shop_does_not_carry_is_said_on_every_path(services, domain):
    """"do you sell laptops?" had the FAQ's data-privacy answer ("we never sell it"), "do you
    sell bikinis?" a "didn't catch that", "I need a new mattress" the address answer."""
    from actions.faq import ActionAnswerFaq

    for action, text, intent in ((ActionOutOfScope(), "do you sell laptops?", "out_of_scope"),
                                 (ActionDefaultFallback(), "do you sell bikinis?", "nlu_fallback"),
                                 (ActionAnswerFaq(), "I need a new mattress", "set_up_shipping_address"),
                                 (ActionRecommendProducts(), "looking for a 55 inch TV", "search_product")):
        tracker = load_tracker("fallback_first")
        tracker.latest_message.update(text=text, intent={"name": intent, "confidence": 0.6},
                                      intent_ranking=[{"name": intent, "confidence": 0.6}], entities=[])
        dispatcher = CollectingDispatcher()
        await action.run(dispatcher, tracker, domain)
        assert responses(dispatcher) == ["utter_not_carried"], text
        assert not payloads(dispatcher)
    tracker = load_tracker("fallback_first")
    tracker.latest_message.update(text="I need a new password", intent={"name": "recover_password"})
    dispatcher = CollectingDispatcher()
    await ActionAnswerFaq().run(dispatcher, tracker, domain)
    assert responses(dispatcher) == ["utter_faq_answer"]  # a service topic, never "not carried"


async def test_a_shown_products_question_the_faq_half_matches_is_that_products(services, domain):
    from rasa_sdk.events import FollowupAction

    from actions.faq import ActionAnswerFaq

    tracker = load_tracker("fallback_first", last_page_ids=["A01", "A02"])
    tracker.latest_message.update(text="the second one - does it have noise cancelling?",
                                  intent={"name": "check_cancellation_fee", "confidence": 0.54},
                                  entities=[{"entity": "ordinal", "value": "second"}])
    events = await ActionAnswerFaq().run(CollectingDispatcher(), tracker, domain)
    assert events == [FollowupAction("action_product_details")]
