<?php

declare(strict_types=1);

namespace Sagebridge\Push\Lib;

/**
 * How long to wait before the next attempt: capped exponential backoff with jitter (so many stores
 * recovering from one hub outage do not retry in lockstep), or the hub's Retry-After when it sent
 * one (RFC 9110 §10.2.3: delay-seconds or an HTTP-date), which wins even above the cap because the
 * hub knows its own overload; it is bounded only at an hour so a bad header cannot park the queue.
 */
final class Backoff
{
    private const MAX_RETRY_AFTER_S = 3600.0;

    public function __construct(private readonly float $baseSeconds, private readonly float $capSeconds)
    {
    }

    /** Delay after the `failures`-th consecutive failure (1-based); `retryAfter` is the raw header. */
    public function delay(int $failures, ?string $retryAfter = null, ?float $now = null, ?float $jitter = null): float
    {
        $given = self::retryAfterSeconds($retryAfter, $now ?? microtime(true));
        if ($given !== null) {
            return min($given, self::MAX_RETRY_AFTER_S);
        }
        $exp = min($this->capSeconds, $this->baseSeconds * 2 ** max(0, min($failures - 1, 30)));
        $jitter ??= mt_rand(500, 1000) / 1000;   // 50-100 %: "equal jitter"
        return $exp * $jitter;
    }

    /** Retry-After in seconds from now, or null when absent or unparsable. */
    public static function retryAfterSeconds(?string $value, float $now): ?float
    {
        if ($value === null || ($value = trim($value)) === '') {
            return null;
        }
        if (preg_match('/^\d{1,10}$/D', $value)) {
            return (float) $value;
        }
        $at = \DateTimeImmutable::createFromFormat('D, d M Y H:i:s \G\M\T', $value, new \DateTimeZone('UTC'));
        if ($at === false) {
            return null;
        }
        return max(0.0, $at->getTimestamp() - $now);
    }
}
