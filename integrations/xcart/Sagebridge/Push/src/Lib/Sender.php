<?php

declare(strict_types=1);

namespace Sagebridge\Push\Lib;

/**
 * Drains the queue to the hub, oldest first, each attempt signed with the current time.
 *
 * Outcomes per attempt:
 * - 2xx: delivered, removed.
 * - network error, 408, 429, 5xx: the hub is down, overloaded or restarting; the entry stays at the
 *   head and the whole drain backs off (capped exponential, or Retry-After). The backoff state is
 *   kept in the queue's meta file, so it survives the PHP process, and the next cron run or
 *   request-end drain honours it.
 * - any other status (400 malformed, 401 bad signature or clock, 404 unknown pair, 413 too large):
 *   sending the same bytes again cannot succeed, so the entry is removed, counted as rejected and
 *   logged with the hub's error text; the hub's poll still finds orders and new customers.
 */
final class Sender
{
    public const DELIVERED = 'delivered';
    public const RETRY = 'retry';
    public const REJECTED = 'rejected';

    private readonly Backoff $backoff;

    /** @param \Closure(): float|null $clock @param \Closure(float): void|null $sleep */
    public function __construct(
        private readonly Settings $settings,
        private readonly FileQueue $queue,
        private readonly Transport $transport,
        private readonly Logger $log,
        private readonly ?\Closure $clock = null,
        private readonly ?\Closure $sleep = null,
    ) {
        $this->backoff = new Backoff($settings->backoffBaseSeconds, $settings->backoffCapSeconds);
    }

    /** The outcome class of one answer. */
    public static function classify(Response $r): string
    {
        if ($r->status >= 200 && $r->status < 300) {
            return self::DELIVERED;
        }
        if ($r->status === 0 || $r->status === 408 || $r->status === 429 || $r->status >= 500) {
            return self::RETRY;
        }
        return self::REJECTED;
    }

    /**
     * Sends due entries until the queue is empty or `maxSeconds` have passed. With `wait`, sleeps
     * through backoff delays inside that budget (the cron command); without, stops at the first
     * delay (the request-end drain, which must not hold a PHP worker).
     *
     * @return array{delivered:int, rejected:int, retries:int, remaining:int, locked:bool}
     */
    public function drain(float $maxSeconds, bool $wait): array
    {
        $done = ['delivered' => 0, 'rejected' => 0, 'retries' => 0, 'remaining' => 0, 'locked' => false];
        if (!$this->settings->canSend()) {
            $this->log->log('warning', 'push module not configured (hub URL, pair id, webhook secret); queue kept');
            $done['remaining'] = $this->queue->size();
            return $done;
        }
        if (!$this->queue->tryLockDrain()) {
            $done['locked'] = true;                  // another drainer is at work
            $done['remaining'] = $this->queue->size();
            return $done;
        }
        try {
            $deadline = $this->now() + $maxSeconds;
            while (true) {
                $stats = $this->queue->stats();
                $waitFor = $stats['not_before'] - $this->now();
                if ($waitFor > 0) {
                    if (!$wait || $this->now() + $waitFor > $deadline) {
                        break;
                    }
                    $this->pause($waitFor);
                }
                $batch = $this->queue->head(50);
                if (!$batch || $this->now() > $deadline) {
                    break;
                }
                $failures = $stats['failures'];
                foreach ($batch as $entry) {
                    $outcome = $this->sendOne($entry, $failures);
                    $failures = $outcome === self::DELIVERED ? 0 : $failures;
                    $done[$outcome === self::RETRY ? 'retries' : $outcome]++;
                    if ($outcome === self::RETRY) {
                        continue 2;                  // back off before anything else is tried
                    }
                    if ($this->now() > $deadline) {
                        break 2;
                    }
                }
            }
        } finally {
            $this->queue->unlockDrain();
        }
        $done['remaining'] = $this->queue->size();
        return $done;
    }

    private function sendOne(array $entry, int $failures): string
    {
        $ts = (int) floor($this->now());
        $headers = Signer::headers($this->settings->webhookSecret, $entry['body'], $ts);
        $response = $this->transport->post($this->settings->endpoint(), $headers, $entry['body'],
            $this->settings->timeoutSeconds);
        $outcome = self::classify($response);
        $context = ['seq' => $entry['seq'], 'status' => $response->status, 'attempts' => $entry['attempts'] + 1,
                    'event' => self::eventOf($entry['body'])];
        if ($outcome === self::DELIVERED) {
            $this->queue->remove($entry['seq'], 'delivered');
            if ($failures > 0) {
                $this->queue->setBackoff(0, 0.0);
                $this->log->log('info', 'hub reachable again; push queue draining', $context);
            }
        } elseif ($outcome === self::REJECTED) {
            $this->queue->remove($entry['seq'], 'rejected');
            $this->log->log('error', 'hub refused a notification; not retried (the hub\'s poll still finds orders and new customers)',
                $context + ['hub_error' => self::errorOf($response)]);
        } else {
            $this->queue->recordAttempt($entry);
            $delay = $this->backoff->delay($failures + 1, $response->header('retry-after'), $this->now());
            $this->queue->setBackoff($failures + 1, $this->now() + $delay);
            $this->log->log('warning', 'hub unavailable; notification kept, retrying later',
                $context + ['retry_in_s' => round($delay, 3), 'error' => $response->error !== '' ? substr($response->error, 0, 300) : self::errorOf($response)]);
        }
        return $outcome;
    }

    private static function eventOf(string $body): string
    {
        $doc = json_decode($body, true);
        return is_array($doc) && is_string($doc['event'] ?? null) ? $doc['event'] : '?';
    }

    private static function errorOf(Response $r): string
    {
        $doc = json_decode($r->body, true);
        $text = is_array($doc) && is_string($doc['error'] ?? null) ? $doc['error'] : $r->body;
        return substr($text, 0, 300);
    }

    private function now(): float
    {
        return $this->clock ? ($this->clock)() : microtime(true);
    }

    private function pause(float $seconds): void
    {
        $this->sleep ? ($this->sleep)($seconds) : usleep((int) ceil($seconds * 1e6));
    }
}
