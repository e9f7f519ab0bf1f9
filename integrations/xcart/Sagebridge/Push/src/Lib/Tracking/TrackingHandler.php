<?php

declare(strict_types=1);

namespace Sagebridge\Push\Lib\Tracking;

use Sagebridge\Push\Lib\Logger;

/**
 * `POST /?target=sagebridge_tracking`: adds a tracking number to an order, once.
 *
 * Order of checks: method, then the token (before the body is even parsed, so an unauthenticated
 * caller learns nothing about orders), compared with hash_equals so the comparison time does not
 * reveal how much of a guess was right; then the body (400), then the order (404). Idempotent on
 * (order, tracking number): a repeat answers 200 with the existing row, which is what lets the hub
 * retry a call whose answer it lost. Concurrent identical calls are serialised by an exclusive lock
 * per order, so two retries racing each other still create one row.
 */
final class TrackingHandler
{
    public function __construct(
        private readonly string $token,
        private readonly OrderStore $orders,
        private readonly Logger $log,
        private readonly string $lockDir,
    ) {
    }

    /** @return array{0:int, 1:array<string, mixed>, 2:?int} status, JSON body, order id to notify about (new rows only) */
    public function handle(string $method, ?string $givenToken, string $rawBody): array
    {
        if (strtoupper($method) !== 'POST') {
            return [405, ['error' => 'use POST'], null];
        }
        if ($this->token === '' || $givenToken === null || !hash_equals($this->token, $givenToken)) {
            return [401, ['error' => $this->token === '' ? 'tracking endpoint has no token configured' : 'bad or missing X-Sagebridge-Token'], null];
        }
        try {
            $req = TrackingRequest::parse($rawBody);
        } catch (BadRequest $e) {
            return [400, ['error' => $e->getMessage()], null];
        }
        $orderId = $this->orders->orderIdByNumber($req->orderNumber);
        if ($orderId === null) {
            return [404, ['error' => 'no order with that order_number'], null];
        }
        return $this->underLock($orderId, function () use ($orderId, $req): array {
            foreach ($this->orders->trackingNumbers($orderId) as $id => $value) {
                if ($value === $req->trackingNumber) {
                    return [200, ['order_id' => $orderId, 'tracking_id' => $id, 'created' => false], null];
                }
            }
            $id = $this->orders->addTrackingNumber($orderId, $req->trackingNumber);
            $this->log->log('info', 'tracking number added', ['order_id' => $orderId, 'tracking_id' => $id,
                'carrier' => $req->carrier]);
            return [201, ['order_id' => $orderId, 'tracking_id' => $id, 'created' => true], $orderId];
        });
    }

    private function underLock(int $orderId, callable $fn): array
    {
        if (!is_dir($this->lockDir)) {
            @mkdir($this->lockDir, 0770, true);
        }
        $h = fopen(sprintf('%s/tracking-%d.lock', $this->lockDir, $orderId), 'c');
        if ($h === false || !flock($h, LOCK_EX)) {
            throw new \RuntimeException('cannot lock the order for its tracking numbers');
        }
        try {
            return $fn();
        } finally {
            flock($h, LOCK_UN);
            fclose($h);
        }
    }
}
