<?php

declare(strict_types=1);

namespace Sagebridge\Push\Core;

use Sagebridge\Push\Lib\EventMap;
use XCart\Extender\Mapping\Extender;

/**
 * Decorates `XLite\Core\OrderHistory::registerEvent()`, the single method through which X-Cart
 * 5.5 writes every order-history event: `registerPlaceOrder()` (called by `Order::processSucceed()`
 * when an order is placed), `registerOrderChangeStatus()` (called from `Order::checkStatuses()`, the
 * order's Doctrine PostUpdate callback, for every payment/shipping status change whatever set it:
 * admin, REST API, gateway callback), tracking and edit events. EventMap turns the code into ours.
 *
 * @Extender\Mixin
 */
class OrderHistory extends \XLite\Core\OrderHistory
{
    public function registerEvent($orderId, $code, $description, array $data = [], $comment = '', $details = [])
    {
        parent::registerEvent($orderId, $code, $description, $data, $comment, $details);

        $event = EventMap::forHistoryCode((string) $code);
        if ($event !== null && $orderId) {
            Pusher::getInstance()->record($event, (int) $orderId);
        }
    }
}
