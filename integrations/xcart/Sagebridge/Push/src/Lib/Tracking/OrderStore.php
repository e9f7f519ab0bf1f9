<?php

declare(strict_types=1);

namespace Sagebridge\Push\Lib\Tracking;

/** The three things the tracking endpoint needs from the store (X-Cart's Doctrine repos in production). */
interface OrderStore
{
    /** The order id for a store order number, or null when there is none. */
    public function orderIdByNumber(string $orderNumber): ?int;

    /** @return array<int, string> the order's tracking numbers: tracking id => value */
    public function trackingNumbers(int $orderId): array;

    /** Adds a tracking number to the order; returns its tracking id. */
    public function addTrackingNumber(int $orderId, string $value): int;
}
