"""GA4 default channel grouping: cases derived from Google's published rule definitions
("[GA4] Default channel group", support.google.com/analytics/answer/9756891), one or more per
rule and the edge cases between rules (evaluation order, cpc vs ppc vs cpm, (none), case)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from attribution.channels import GA4_RULES, ChannelRules, default_channel_group

CASES = [
    # source, medium, campaign, group
    # Direct: source exactly "(direct)" AND medium "(none)" or "(not set)"
    ("(direct)", "(none)", None, "Direct"),
    ("(direct)", "(not set)", None, "Direct"),
    (None, None, None, "Direct"),  # untagged: GA4's placeholders
    ("(direct)", "cpc", None, "Paid Other"),  # not Direct: medium is paid
    # Cross-network: campaign contains "cross-network" (before every paid rule)
    ("google", "cpc", "pmax cross-network q3", "Cross-network"),
    # Paid Shopping: (shopping site OR campaign ~ shop) AND paid medium
    ("amazon", "cpc", None, "Paid Shopping"),
    ("google", "cpc", "summer shopping", "Paid Shopping"),
    ("google", "cpc", "shop-now", "Paid Shopping"),
    ("google", "cpc", "workshop", "Paid Search"),  # "workshop": 'k' before shop is in a-df-z
    ("google", "cpc", "eshop", "Paid Shopping"),  # 'e' is outside [a-df-z]
    # Paid Search: search site AND medium ~ ^(.*cp.*|ppc|retargeting|paid.*)$
    ("google", "cpc", None, "Paid Search"),
    ("bing", "ppc", None, "Paid Search"),
    ("google", "paidsearch", None, "Paid Search"),
    ("yahoo", "retargeting", None, "Paid Search"),
    ("google", "cpm", None, "Paid Search"),  # cpm matches .*cp.* before the Display rule
    ("www.google.co.uk", "cpc", None, "Paid Search"),
    ("Google", "CPC", None, "Paid Search"),  # not case-sensitive
    # Paid Social
    ("facebook", "cpc", None, "Paid Social"),
    ("m.facebook.com", "paid_social", None, "Paid Social"),
    ("linkedin", "ppc", None, "Paid Social"),
    ("tiktok", "paid", None, "Paid Social"),
    # Paid Video
    ("youtube", "cpv", None, "Paid Video"),
    ("vimeo.com", "paid-video", None, "Paid Video"),
    # Display: medium one of display, banner, expandable, interstitial, cpm
    ("adnetwork", "display", None, "Display"),
    ("adnetwork", "banner", None, "Display"),
    ("adnetwork", "interstitial", None, "Display"),
    ("adnetwork", "cpm", None, "Display"),  # cpm is also paid, but Display precedes Paid Other
    # Paid Other: paid medium with a source in no list
    ("newsletter-partner", "cpc", None, "Paid Other"),
    ("adnetwork", "ppc", None, "Paid Other"),
    # Organic Shopping
    ("amazon.com", "referral", None, "Organic Shopping"),
    ("partner", "referral", "shopping week", "Organic Shopping"),
    # Organic Social
    ("facebook.com", "referral", None, "Organic Social"),
    ("t.co", "referral", None, "Organic Social"),
    ("anything", "social", None, "Organic Social"),
    ("anything", "social-network", None, "Organic Social"),
    ("anything", "sm", None, "Organic Social"),
    # Organic Video
    ("youtube.com", "referral", None, "Organic Video"),
    ("anything", "video", None, "Organic Video"),
    ("anything", "my-video-post", None, "Organic Video"),
    # Organic Search
    ("google", "organic", None, "Organic Search"),
    ("duckduckgo", "referral", None, "Organic Search"),
    ("anything", "organic", None, "Organic Search"),
    # Referral: medium one of referral, app, link
    ("blog.example.com", "referral", None, "Referral"),
    ("partner", "app", None, "Referral"),
    ("partner", "link", None, "Referral"),
    # Email
    ("newsletter", "email", None, "Email"),
    ("email", "anything", None, "Email"),
    ("crm", "e-mail", None, "Email"),
    ("crm", "e mail", None, "Email"),
    # Affiliates
    ("partner", "affiliate", None, "Affiliates"),
    # Audio
    ("spotify", "audio", None, "Audio"),
    # SMS
    ("sms", "text", None, "SMS"),
    ("provider", "sms", None, "SMS"),
    # Mobile Push Notifications
    ("app", "web-push", None, "Mobile Push Notifications"),
    ("app", "mobile-alert", None, "Mobile Push Notifications"),
    ("app", "notification", None, "Mobile Push Notifications"),
    ("firebase", "anything", None, "Mobile Push Notifications"),
    # Unassigned
    ("partner", "qr", None, "Unassigned"),
    ("(direct)", "offline", None, "Unassigned"),
]


def test_default_channel_group_reproduces_every_case():
    src, med, cmp, want = map(list, zip(*CASES))
    got = default_channel_group(src, med, cmp)
    bad = [(c, g) for c, g, w in zip(CASES, got, want) if g != w]
    assert not bad, bad


def test_vectorised_over_distinct_values_and_order_kept():
    rng = np.random.default_rng(0)
    idx = rng.integers(0, len(CASES), 5000)
    src, med, cmp, _ = map(np.array, zip(*CASES))
    got = default_channel_group(src[idx], med[idx], cmp[idx])
    once = default_channel_group(src, med, cmp)
    assert list(got) == list(once[idx])


def test_blank_strings_are_missing():
    assert list(default_channel_group(["", " "], ["", None])) == ["Direct", "Direct"]


def test_custom_rules_first_match_wins_and_table_is_editable():
    mine = ChannelRules(
        [("Newsletter", "mailchimp", None, None), ("Brand search", "google", "cpc", "brand.*")]
    ) + ChannelRules(GA4_RULES)
    got = mine.apply(["mailchimp", "google", "google"], ["email", "cpc", "cpc"], ["x", "brand_uk", "generic"])
    assert list(got) == ["Newsletter", "Brand search", "Paid Search"]
    # an edited copy of the GA4 table: a new social site
    table = GA4_RULES.copy()
    table.loc[table.group.isin(["Paid Social", "Organic Social"]) & table.source.notna(), "source"] += "|myforum"
    got = default_channel_group(["myforum", "myforum"], ["referral", "cpc"], rules=table)
    assert list(got) == ["Organic Social", "Paid Social"]


def test_bad_rules_are_refused():
    with pytest.raises(ValueError, match="invalid regex"):
        ChannelRules([("X", "(", None, None)])
    with pytest.raises(ValueError, match="unknown columns"):
        ChannelRules(pd.DataFrame({"group": ["X"], "sourc": ["a"]}))
    with pytest.raises(ValueError, match="same length"):
        default_channel_group(["a", "b"], ["c"])
    with pytest.raises(TypeError):
        default_channel_group(["a"], ["b"], rules=42)
