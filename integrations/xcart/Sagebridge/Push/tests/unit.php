<?php

/**
 * Checks of the plain-PHP core that need no hub: the history-code map, the id and body rules,
 * Retry-After, and the sender's retry decisions against a scripted transport with a fake clock.
 * `php tests/unit.php` prints one line per check and exits 1 on the first failure
 * (tests/integration/test_xcart_push_module.py runs it).
 */

declare(strict_types=1);

require __DIR__ . '/../autoload.php';

use Sagebridge\Push\Lib\Backoff;
use Sagebridge\Push\Lib\EventMap;
use Sagebridge\Push\Lib\FileQueue;
use Sagebridge\Push\Lib\Logger;
use Sagebridge\Push\Lib\Notification;
use Sagebridge\Push\Lib\Response;
use Sagebridge\Push\Lib\Sender;
use Sagebridge\Push\Lib\Settings;
use Sagebridge\Push\Lib\Signer;
use Sagebridge\Push\Lib\Transport;

function check(string $name, bool $ok): void
{
    echo ($ok ? 'ok ' : 'FAIL ') . $name . "\n";
    if (!$ok) {
        exit(1);
    }
}

function throws(callable $fn): bool
{
    try {
        $fn();
    } catch (\InvalidArgumentException) {
        return true;
    }
    return false;
}

final class MemoryLogger implements Logger
{
    public array $lines = [];

    public function log(string $level, string $message, array $context = []): void
    {
        $this->lines[] = [$level, $message, $context];
    }
}

/** Answers from a script, recording what it was sent and at which fake time. */
final class ScriptedTransport implements Transport
{
    public array $sent = [];

    public function __construct(private array $answers, private readonly \Closure $now)
    {
    }

    public function post(string $url, array $headers, string $body, float $timeoutSeconds): Response
    {
        $this->sent[] = ['url' => $url, 'headers' => $headers, 'body' => $body, 'at' => ($this->now)()];
        return array_shift($this->answers) ?? new Response(202);
    }
}

check('history codes map to events', EventMap::forHistoryCode('PLACE ORDER') === 'order.created'
    && EventMap::forHistoryCode('CHANGE PAYMENT STATUS ORDER') === 'order.payment_status_changed'
    && EventMap::forHistoryCode('CHANGE SHIPPING STATUS ORDER') === 'order.shipping_status_changed'
    && EventMap::forHistoryCode('ORDER TRACKING') === 'order.tracking_added'
    && EventMap::forHistoryCode('EMAIL CUSTOMER SENT') === null);
check('ids: positive integers only', Notification::validId('0042') === 42 && Notification::validId(7) === 7
    && throws(fn () => Notification::validId(0)) && throws(fn () => Notification::validId('-1'))
    && throws(fn () => Notification::validId('4.2')) && throws(fn () => Notification::validId('9223372036854775808')));
check('unknown event refused', throws(fn () => Notification::body('order.deleted', 1, 's')));
$at = new DateTimeImmutable('2026-06-01 12:00:00.5', new DateTimeZone('America/New_York'));
check('body shape, time in UTC', Notification::body('customer.updated', 9, 'shop', $at)
    === '{"event":"customer.updated","profile_id":9,"occurred_at":"2026-06-01T16:00:00.500Z","store":"shop"}');
check('Retry-After seconds and HTTP-date', Backoff::retryAfterSeconds('120', 0) === 120.0
    && Backoff::retryAfterSeconds('Thu, 01 Jan 1970 00:01:40 GMT', 40.0) === 60.0
    && Backoff::retryAfterSeconds('soon', 0) === null && Backoff::retryAfterSeconds(null, 0) === null);
$b = new Backoff(1.0, 8.0);
check('backoff doubles up to the cap', $b->delay(1, null, 0, 1.0) === 1.0 && $b->delay(3, null, 0, 1.0) === 4.0
    && $b->delay(10, null, 0, 1.0) === 8.0 && $b->delay(2, null, 0, 0.5) === 1.0);
check('Retry-After wins over the cap, bounded at an hour', $b->delay(1, '30', 0) === 30.0 && $b->delay(1, '99999', 0) === 3600.0);

// The sender against a scripted hub, with a fake clock that sleeping advances.
$dir = sys_get_temp_dir() . '/sagebridge-push-unit-' . bin2hex(random_bytes(4));
$t = 1_000_000.0;
$now = function () use (&$t): float { return $t; };
$slept = [];
$sleep = function (float $s) use (&$t, &$slept): void { $slept[] = $s; $t += $s; };
$log = new MemoryLogger();
$settings = new Settings('http://hub.test/', 'p-1', 'secret', backoffBaseSeconds: 1.0, backoffCapSeconds: 4.0);
$queue = new FileQueue($dir, 100, $log);
foreach ([1, 2, 3] as $id) {
    $queue->push(Notification::body('order.updated', $id, 's'));
}
$hub = new ScriptedTransport([Response::networkError('refused'), new Response(503), new Response(429, ['retry-after' => '30']),
    new Response(202), new Response(400, [], '{"error":"unknown event"}'), new Response(202)], $now);
$r = (new Sender($settings, $queue, $hub, $log, $now, $sleep))->drain(600, true);
check('drain result', $r === ['delivered' => 2, 'rejected' => 1, 'retries' => 3, 'remaining' => 0, 'locked' => false]);
check('endpoint', $hub->sent[0]['url'] === 'http://hub.test/webhooks/xcart/p-1');
check('oldest first, the failing head retried before anything else',
    array_map(fn ($s) => json_decode($s['body'], true)['order_id'], $hub->sent) === [1, 1, 1, 1, 2, 3]);
check('waits: capped exponential then Retry-After', count($slept) === 3 && $slept[0] >= 0.5 && $slept[0] <= 1.0
    && $slept[1] >= 1.0 && $slept[1] <= 2.0 && $slept[2] === 30.0);
$fresh = true;
foreach ($hub->sent as $s) {
    $ts = (int) $s['headers'][Signer::TIMESTAMP_HEADER];
    $fresh = $fresh && $ts === (int) floor($s['at'])
        && $s['headers'][Signer::SIGNATURE_HEADER] === Signer::signature('secret', $ts, $s['body']);
}
check('each attempt signed anew with its own time', $fresh && $hub->sent[0]['headers'] != $hub->sent[3]['headers']);
check('backoff reset after delivery', $queue->stats()['failures'] === 0);
check('refusal logged with the hub\'s error, secret never logged',
    count(array_filter($log->lines, fn ($l) => ($l[2]['hub_error'] ?? '') === 'unknown event')) === 1
    && !str_contains(json_encode($log->lines), 'secret'));

// Without --wait, a drain stops at the first backoff instead of holding the PHP worker.
$queue->push(Notification::body('order.updated', 4, 's'));
$hub2 = new ScriptedTransport([new Response(500)], $now);
$slept = [];
$r = (new Sender($settings, $queue, $hub2, $log, $now, $sleep))->drain(600, false);
check('request-end drain does not sleep', $r['retries'] === 1 && $r['remaining'] === 1 && $slept === [] && count($hub2->sent) === 1);
$r = (new Sender($settings, $queue, $hub2, $log, $now, $sleep))->drain(600, false);
check('and honours the stored backoff on the next run', count($hub2->sent) === 1 && $r['remaining'] === 1);

// One drainer at a time.
$q2 = new FileQueue($dir, 100, $log);
check('drain lock is exclusive', $queue->tryLockDrain() && !$q2->tryLockDrain());
$queue->unlockDrain();
check('and released', $q2->tryLockDrain());
$q2->unlockDrain();
foreach (new RecursiveIteratorIterator(new RecursiveDirectoryIterator($dir, FilesystemIterator::SKIP_DOTS),
    RecursiveIteratorIterator::CHILD_FIRST) as $f) {
    $f->isDir() ? rmdir($f->getPathname()) : unlink($f->getPathname());
}
rmdir($dir);
echo "all ok\n";
