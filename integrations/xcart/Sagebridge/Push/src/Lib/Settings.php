<?php

declare(strict_types=1);

namespace Sagebridge\Push\Lib;

/**
 * The module's configuration as one immutable value, so the sender, the queue and the tracking
 * endpoint can run (and be tested) without X-Cart: the X-Cart glue builds it from the module's
 * settings page, the tests from a JSON file.
 */
final class Settings
{
    public function __construct(
        public readonly string $hubUrl,
        public readonly string $pairId,
        public readonly string $webhookSecret,
        public readonly string $trackingToken = '',
        public readonly string $store = 'default',
        public readonly int $queueSize = 10000,
        public readonly float $backoffBaseSeconds = 1.0,
        public readonly float $backoffCapSeconds = 300.0,
        public readonly float $timeoutSeconds = 10.0,
    ) {
        if ($queueSize < 1) {
            throw new \InvalidArgumentException('queue size must be at least 1');
        }
        if ($backoffBaseSeconds <= 0 || $backoffCapSeconds < $backoffBaseSeconds) {
            throw new \InvalidArgumentException('backoff needs 0 < base <= cap');
        }
    }

    /** `<hub url>/webhooks/xcart/<pair id>`: ingest's route for this pair. */
    public function endpoint(): string
    {
        return rtrim($this->hubUrl, '/') . '/webhooks/xcart/' . rawurlencode($this->pairId);
    }

    /** Whether the sender can post at all (a store may install the module before configuring it). */
    public function canSend(): bool
    {
        return $this->hubUrl !== '' && $this->pairId !== '' && $this->webhookSecret !== '';
    }

    /** @param array<string, mixed> $a keys as in the module's settings (snake_case) */
    public static function fromArray(array $a): self
    {
        return new self(
            hubUrl: (string) ($a['hub_url'] ?? ''),
            pairId: (string) ($a['pair_id'] ?? ''),
            webhookSecret: (string) ($a['webhook_secret'] ?? ''),
            trackingToken: (string) ($a['tracking_token'] ?? ''),
            store: (string) (($a['store'] ?? '') !== '' ? $a['store'] : 'default'),
            queueSize: (int) ($a['queue_size'] ?? 10000),
            backoffBaseSeconds: (float) ($a['backoff_base_s'] ?? 1.0),
            backoffCapSeconds: (float) ($a['backoff_cap_s'] ?? 300.0),
            timeoutSeconds: (float) ($a['timeout_s'] ?? 10.0),
        );
    }
}
