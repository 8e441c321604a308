"""Kafka: every topic takes and returns a keyed message; topic layout as configured."""

from __future__ import annotations

import uuid

import pytest
from confluent_kafka import Consumer, Producer
from confluent_kafka.admin import ConfigResource, ResourceType

from moviepipe.services import kafka

pytestmark = pytest.mark.integration


def test_four_topics_with_configured_partitions_and_config(topic_settings):
    admin = kafka.admin_client(topic_settings)
    meta = admin.list_topics(timeout=10)
    expected = ["movie", "user_watch_log", "user_click_log", "user_comment_log"]
    assert topic_settings.topics == [topic_settings.topic(t) for t in expected]
    for name in topic_settings.topics:
        assert name in meta.topics
        assert len(meta.topics[name].partitions) == 3
    resources = [ConfigResource(ResourceType.TOPIC, t) for t in topic_settings.topics]
    for future in admin.describe_configs(resources).values():
        config = future.result()
        assert config["retention.ms"].value == "604800000"
        assert config["cleanup.policy"].value == "delete"


def test_ensure_topics_is_idempotent(topic_settings):
    assert kafka.ensure_topics(topic_settings) == []


@pytest.mark.parametrize("base", ["movie", "user_watch_log", "user_click_log", "user_comment_log"])
def test_keyed_message_round_trip(topic_settings, base):
    topic = topic_settings.topic(base)
    key = f"user-{uuid.uuid4().hex[:6]}".encode()
    value = f'{{"probe": "{uuid.uuid4()}"}}'.encode()
    producer = Producer(
        {"bootstrap.servers": topic_settings.kafka_bootstrap_servers, "enable.idempotence": True}
    )
    delivered = []
    producer.produce(
        topic, key=key, value=value, on_delivery=lambda err, msg: delivered.append((err, msg))
    )
    assert producer.flush(15) == 0
    err, msg = delivered[0]
    assert err is None
    consumer = Consumer(
        {
            "bootstrap.servers": topic_settings.kafka_bootstrap_servers,
            "group.id": f"test-{uuid.uuid4().hex[:6]}",
            "auto.offset.reset": "earliest",
        }
    )
    consumer.subscribe([topic])
    got = None
    try:
        for _ in range(60):
            m = consumer.poll(0.5)
            if m is not None and m.error() is None and m.value() == value:
                got = m
                break
    finally:
        consumer.close()
    assert got is not None, "message not consumed back"
    assert got.key() == key
    # Keyed messages land on the partition the key hashes to, the same every time.
    assert got.partition() == msg.partition()
