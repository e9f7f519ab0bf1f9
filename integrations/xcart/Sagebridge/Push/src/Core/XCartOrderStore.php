<?php

declare(strict_types=1);

namespace Sagebridge\Push\Core;

use Sagebridge\Push\Lib\Tracking\OrderStore;
use XLite\Core\Database;
use XLite\Model\Order;
use XLite\Model\OrderTrackingNumber;

/** The tracking endpoint's view of X-Cart: orders by number, their OrderTrackingNumber rows. */
final class XCartOrderStore implements OrderStore
{
    public function orderIdByNumber(string $orderNumber): ?int
    {
        $order = Database::getRepo(Order::class)->findOneBy(['orderNumber' => $orderNumber]);
        return $order ? (int) $order->getOrderId() : null;
    }

    public function trackingNumbers(int $orderId): array
    {
        $out = [];
        $rows = Database::getRepo(OrderTrackingNumber::class)->findBy(['order' => $orderId]);
        foreach ($rows as $row) {
            $out[(int) $row->getTrackingId()] = (string) $row->getValue();
        }
        return $out;
    }

    public function addTrackingNumber(int $orderId, string $value): int
    {
        $order = Database::getRepo(Order::class)->find($orderId);
        $row = new OrderTrackingNumber();
        $row->setValue($value);
        $row->setOrder($order);
        $order->addTrackingNumbers($row);
        Database::getEM()->persist($row);
        Database::getEM()->flush();          // EntitySubscriber records order.tracking_added after this commit
        return (int) $row->getTrackingId();
    }
}
