"""Pair files: strict models, errors with key and line, interpolation, many pairs per directory."""
from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
from pydantic import SecretStr

from sagebridge_common import registry
from sagebridge_common.pair_file import PairFileError
from sagebridge_common.pairs import ConnectorConfig, load_pair_file, load_pairs


class ShopBlock(ConnectorConfig):
    instance: str
    base_url: str
    token: SecretStr = SecretStr("")


class ErpBlock(ConnectorConfig):
    company: str


registry.register_config("storefront", "testshop", ShopBlock)
registry.register_config("erp", "testerp", ErpBlock)

GOOD = """\
pair: shop-erp
reference_prefix: TS1-
store_time_zone: America/Los_Angeles
currency: USD
storefront:
  kind: testshop
  instance: main
  base_url: ${TEST_SHOP_URL:-http://127.0.0.1:1}
  token: ${TEST_SHOP_TOKEN}
erp:
  kind: testerp
  company: ACME
mapping:
  payment_status:
    P: {status: paid, ready_for_erp: true}
    default: {status: unknown, ready_for_erp: false}
  shipping_status: {default: unknown}
  order_charges: {shipping: {placement: line, code: FRT}}
  default_customer: WEB
  default_location: "1"
"""


def write(tmp_path: Path, text: str, name: str = "pair.yaml") -> Path:
    p = tmp_path / name
    p.write_text(textwrap.dedent(text))
    return p


def test_a_good_file_loads_typed_with_interpolated_secret(tmp_path, monkeypatch):
    monkeypatch.setenv("TEST_SHOP_TOKEN", "s3cret")
    cfg = load_pair_file(write(tmp_path, GOOD))
    assert cfg.pair == "shop-erp" and cfg.storefront.kind == "testshop"
    assert isinstance(cfg.storefront, ShopBlock) and cfg.storefront.token.get_secret_value() == "s3cret"
    assert cfg.storefront.base_url == "http://127.0.0.1:1"
    assert cfg.reference("1001") == "TS1-1001"
    assert cfg.mapping.payment("P").ready_for_erp is True and cfg.mapping.payment("ZZ").status == "unknown"
    assert cfg.zone.key == "America/Los_Angeles"


def test_secret_from_the_secrets_directory(tmp_path, monkeypatch):
    monkeypatch.delenv("TEST_SHOP_TOKEN", raising=False)
    secrets = tmp_path / "secrets"
    secrets.mkdir()
    (secrets / "test_shop_token").write_text("from-file\n")
    monkeypatch.setenv("SAGEBRIDGE_SECRETS_DIR", str(secrets))
    assert load_pair_file(write(tmp_path, GOOD)).storefront.token.get_secret_value() == "from-file"


def test_unset_variable_names_the_key_line_and_variable(tmp_path, monkeypatch):
    monkeypatch.delenv("TEST_SHOP_TOKEN", raising=False)
    monkeypatch.delenv("SAGEBRIDGE_SECRETS_DIR", raising=False)
    with pytest.raises(PairFileError, match=r"pair.yaml:9: storefront.token: variable TEST_SHOP_TOKEN is not set"):
        load_pair_file(write(tmp_path, GOOD))


@pytest.mark.parametrize("old,new,expected", [
    ("  default_location: \"1\"", "  default_location: \"1\"\n  default_cutsomer: X",
     r":21: mapping.default_cutsomer: unknown key"),
    ("P: {status: paid, ready_for_erp: true}", "P: {status: paid, ready_for_erp: \"false\"}",
     r":15: mapping.payment_status.P.ready_for_erp: Input should be a valid boolean"),
    ("  company: ACME", "  company: ACME\n  compnay: ACME", r":13: erp.compnay: unknown key"),
    ("currency: USD", "currency: dollars", r":4: currency: String should match pattern"),
    ("store_time_zone: America/Los_Angeles", "store_time_zone: Mars/Olympus", r":3: store_time_zone: .*unknown time zone"),
    ("  shipping_status: {default: unknown}", "  shipping_status: {S: shipped}", r"shipping_status needs a `default`"),
    ("  kind: testerp", "  kind: nosuch", r":11: erp.kind: unknown connector kind 'nosuch'"),
    ("pair: shop-erp", "pair: Shop ERP", r":1: pair: String should match pattern"),
])
def test_a_wrong_file_stops_with_key_line_and_expectation(tmp_path, monkeypatch, old, new, expected):
    monkeypatch.setenv("TEST_SHOP_TOKEN", "x")
    assert old in GOOD
    with pytest.raises(PairFileError, match=expected):
        load_pair_file(write(tmp_path, GOOD.replace(old, new)))


def test_duplicate_keys_are_refused(tmp_path, monkeypatch):
    monkeypatch.setenv("TEST_SHOP_TOKEN", "x")
    with pytest.raises(PairFileError, match=r":5: key currency appears twice"):
        load_pair_file(write(tmp_path, GOOD.replace("currency: USD", "currency: USD\ncurrency: EUR")))


def test_a_secret_is_never_echoed_in_an_error(tmp_path, monkeypatch):
    monkeypatch.setenv("TEST_SHOP_TOKEN", "x")
    bad = GOOD.replace("  token: ${TEST_SHOP_TOKEN}", "  token: [do-not-print-me]")
    with pytest.raises(PairFileError) as e:
        load_pair_file(write(tmp_path, bad))
    assert "storefront.token" in str(e.value) and "do-not-print-me" not in str(e.value)


def test_a_directory_serves_many_pairs_and_pair_id_selects_one(tmp_path, monkeypatch):
    monkeypatch.setenv("TEST_SHOP_TOKEN", "x")
    write(tmp_path, GOOD, "a.yaml")
    write(tmp_path, GOOD.replace("pair: shop-erp", "pair: shop2-erp"), "b.yml")
    assert sorted(load_pairs(tmp_path)) == ["shop-erp", "shop2-erp"]
    assert list(load_pairs(tmp_path, "shop2-erp")) == ["shop2-erp"]
    with pytest.raises(PairFileError, match=r"PAIR_ID='other' matches no pair"):
        load_pairs(tmp_path, "other")


def test_two_files_with_one_pair_id_are_refused(tmp_path, monkeypatch):
    monkeypatch.setenv("TEST_SHOP_TOKEN", "x")
    write(tmp_path, GOOD, "a.yaml")
    write(tmp_path, GOOD, "b.yaml")
    with pytest.raises(PairFileError, match="also defined"):
        load_pairs(tmp_path)


def test_a_missing_path_says_relative_to_the_working_directory(tmp_path):
    with pytest.raises(PairFileError, match="relative paths start at the working directory"):
        load_pairs(tmp_path / "nope.yaml")
