<?php

declare(strict_types=1);

namespace Sagebridge\Push\Lib;

/**
 * The notification body the hub's ingest accepts: `{"event", "order_id" | "profile_id",
 * "occurred_at", "store"}`. It names what changed, never the data itself: ingest fetches the
 * order or profile through the store's API, so a notification cannot carry a stale or forged copy,
 * and a lost one costs only latency (the hub's poll finds the change later).
 */
final class Notification
{
    public const ORDER_EVENTS = [
        'order.created',
        'order.updated',
        'order.status_changed',
        'order.payment_status_changed',
        'order.shipping_status_changed',
        'order.tracking_added',
    ];
    public const PROFILE_EVENTS = ['customer.created', 'customer.updated'];

    /** @return string the JSON body, exactly the bytes that are signed and sent */
    public static function body(string $event, int|string $id, string $store, ?\DateTimeInterface $at = null): string
    {
        $key = self::idKey($event);
        $doc = [
            'event' => $event,
            $key => self::validId($id),
            'occurred_at' => self::utc($at ?? new \DateTimeImmutable('now')),
            'store' => $store,
        ];
        return json_encode($doc, JSON_UNESCAPED_SLASHES | JSON_UNESCAPED_UNICODE | JSON_THROW_ON_ERROR);
    }

    /** "order_id" or "profile_id"; an unknown event is a programming error, refused here. */
    public static function idKey(string $event): string
    {
        if (in_array($event, self::ORDER_EVENTS, true)) {
            return 'order_id';
        }
        if (in_array($event, self::PROFILE_EVENTS, true)) {
            return 'profile_id';
        }
        throw new \InvalidArgumentException("unknown event '$event'");
    }

    /** X-Cart ids are positive integers; sent as a JSON integer. */
    public static function validId(int|string $id): int
    {
        if (is_string($id)) {
            if (!preg_match('/^[0-9]{1,19}$/D', $id) || (string) (int) $id !== ltrim($id, '0')) {
                throw new \InvalidArgumentException('id must be a positive integer');
            }
            $id = (int) $id;
        }
        if ($id < 1) {
            throw new \InvalidArgumentException('id must be a positive integer');
        }
        return $id;
    }

    /** ISO-8601 in UTC with milliseconds and a Z, e.g. 2026-12-01T23:30:00.123Z. */
    public static function utc(\DateTimeInterface $at): string
    {
        return \DateTimeImmutable::createFromInterface($at)
            ->setTimezone(new \DateTimeZone('UTC'))
            ->format('Y-m-d\TH:i:s.v\Z');
    }
}
