from sagebridge_common.kafka_clients import consumer_config, producer_config
from sagebridge_common.settings import Settings


def test_security_options_reach_librdkafka(monkeypatch, tmp_path):
    (tmp_path / "kafka_sasl_password").write_text("from-a-file")
    monkeypatch.setenv("SAGEBRIDGE_SECRETS_DIR", str(tmp_path))
    monkeypatch.setenv("KAFKA_BOOTSTRAP_SERVERS", "b1:9093,b2:9093")
    monkeypatch.setenv("KAFKA_SECURITY_PROTOCOL", "SASL_SSL")
    monkeypatch.setenv("KAFKA_SASL_MECHANISM", "SCRAM-SHA-512")
    monkeypatch.setenv("KAFKA_SASL_USERNAME", "hub")
    monkeypatch.setenv("KAFKA_SSL_CA_LOCATION", "/etc/ssl/ca.pem")
    s = Settings.from_env()
    conf = producer_config(s)
    assert conf["bootstrap.servers"] == "b1:9093,b2:9093"
    assert conf["security.protocol"] == "SASL_SSL" and conf["sasl.mechanism"] == "SCRAM-SHA-512"
    assert conf["sasl.username"] == "hub" and conf["sasl.password"] == "from-a-file"
    assert conf["ssl.ca.location"] == "/etc/ssl/ca.pem"
    assert conf["acks"] == "all" and conf["enable.idempotence"] is True
    assert "from-a-file" not in repr(s)                      # secrets never print


def test_consumer_defaults_suit_tansu_and_never_autocommit(monkeypatch):
    monkeypatch.setenv("SERVICE_NAME", "transform")
    monkeypatch.setenv("PAIR_ID", "shop1-sage300")
    c = consumer_config(Settings.from_env())
    assert c["enable.auto.commit"] is False and c["enable.auto.offset.store"] is False
    assert (c["session.timeout.ms"], c["heartbeat.interval.ms"], c["fetch.wait.max.ms"]) == (6000, 1000, 10)
    assert c["group.id"] == "sagebridge.transform.shop1-sage300"


def test_bad_values_are_refused(monkeypatch):
    import pydantic
    import pytest
    monkeypatch.setenv("KAFKA_SECURITY_PROTOCOL", "SSLv2")
    with pytest.raises(pydantic.ValidationError):
        Settings.from_env()
