<?php

declare(strict_types=1);

namespace Sagebridge\Push\Lib;

/**
 * The hub's signature scheme (modelled on Stripe's and Slack's documented webhook signatures):
 * `X-Sagebridge-Timestamp: <unix seconds>` and `X-Sagebridge-Signature: sha256=<hex HMAC-SHA256 of
 * "<timestamp>.<raw body>">` keyed with the pair's webhook secret. The timestamp is inside the MAC,
 * so the hub can refuse a replayed capture once it is older than its tolerance; every attempt is
 * therefore signed again with the current time.
 */
final class Signer
{
    public const TIMESTAMP_HEADER = 'X-Sagebridge-Timestamp';
    public const SIGNATURE_HEADER = 'X-Sagebridge-Signature';

    public static function signature(string $secret, int $timestamp, string $body): string
    {
        return 'sha256=' . hash_hmac('sha256', $timestamp . '.' . $body, $secret);
    }

    /** @return array<string, string> the two headers for `body` sent at `timestamp` */
    public static function headers(string $secret, string $body, int $timestamp): array
    {
        return [
            self::TIMESTAMP_HEADER => (string) $timestamp,
            self::SIGNATURE_HEADER => self::signature($secret, $timestamp, $body),
        ];
    }
}
