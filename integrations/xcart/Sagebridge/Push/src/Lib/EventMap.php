<?php

declare(strict_types=1);

namespace Sagebridge\Push\Lib;

/**
 * X-Cart 5.5 order-history codes (`XLite\Core\OrderHistory::CODE_*`) to hub events. The order
 * history is where X-Cart itself records placement and status changes, whatever caused them
 * (checkout, admin, the REST API's payment_status/shipping_status PUT, a payment gateway callback),
 * which makes `OrderHistory::registerEvent()` the one hook that sees them all.
 */
final class EventMap
{
    private const BY_HISTORY_CODE = [
        'PLACE ORDER' => 'order.created',
        'CHANGE STATUS ORDER' => 'order.status_changed',
        'CHANGE PAYMENT STATUS ORDER' => 'order.payment_status_changed',
        'CHANGE SHIPPING STATUS ORDER' => 'order.shipping_status_changed',
        'ORDER TRACKING' => 'order.tracking_added',
        'ORDER EDITED' => 'order.updated',
    ];

    public static function forHistoryCode(string $code): ?string
    {
        return self::BY_HISTORY_CODE[$code] ?? null;
    }
}
