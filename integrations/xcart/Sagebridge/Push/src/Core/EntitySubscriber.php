<?php

declare(strict_types=1);

namespace Sagebridge\Push\Core;

use Doctrine\Bundle\DoctrineBundle\EventSubscriber\EventSubscriberInterface;
use Doctrine\ORM\Event\OnFlushEventArgs;
use Doctrine\ORM\Event\PostFlushEventArgs;
use Doctrine\ORM\Events;
use XLite\Model\Address;
use XLite\Model\OrderTrackingNumber;
use XLite\Model\Profile;

/**
 * Doctrine listener for the changes X-Cart records in no order history: a tracking number row
 * inserted (admin "Tracking numbers" list, our tracking endpoint, shipping modules) and customer
 * profiles created or changed (registration, account page, admin, REST API), including their
 * address book. Registered in config/services.yaml with the `doctrine.event_subscriber` tag, as
 * X-Cart's own EntityVersionUpdater is.
 *
 * onFlush only collects (new rows have no id yet); postFlush, after the commit, records the events
 * and writes the request's queue entries, so the hub never hears of a change it cannot read yet.
 * Profiles that are an order's copy of the customer (`Profile::getOrder()` set) and anonymous
 * (guest checkout) profiles are not customers of their own and are skipped.
 */
final class EntitySubscriber implements EventSubscriberInterface
{
    /**
     * Profile columns whose change is bookkeeping, not customer data: X-Cart writes last_login on
     * every sign-in, and the rest on password and checkout flows; the hub's customer (name, e-mail,
     * addresses, phone, status) is unchanged by them, so they notify nothing.
     */
    private const BOOKKEEPING = ['last_login', 'first_login', 'password', 'password_hint', 'password_hint_answer',
        'passwordResetKey', 'passwordResetKeyDate', 'dateOfLoginAttempt', 'countOfLoginAttempts',
        'forceChangePassword', 'last_shipping_id', 'last_payment_id', 'orders_count', 'searchFakeField',
        'xcPendingExport', 'lastCheckoutEmail', 'referer', 'language'];

    /** @var list<array{0:string, 1:object}> */
    private array $seen = [];

    public function getSubscribedEvents(): array
    {
        return [Events::onFlush, Events::postFlush];
    }

    public function onFlush(OnFlushEventArgs $args): void
    {
        $uow = $args->getEntityManager()->getUnitOfWork();
        foreach ($uow->getScheduledEntityInsertions() as $entity) {
            $this->collect($entity, true);
        }
        foreach ($uow->getScheduledEntityUpdates() as $entity) {
            if ($entity instanceof Profile
                && !array_diff(array_keys($uow->getEntityChangeSet($entity)), self::BOOKKEEPING)) {
                continue;
            }
            $this->collect($entity, false);
        }
        foreach ($uow->getScheduledEntityDeletions() as $entity) {
            if ($entity instanceof Address) {
                $this->collect($entity, false);
            }
        }
    }

    public function postFlush(PostFlushEventArgs $args): void
    {
        $pusher = Pusher::getInstance();
        $seen = $this->seen;
        $this->seen = [];
        foreach ($seen as [$event, $entity]) {
            $id = $entity instanceof OrderTrackingNumber ? $entity->getOrder()?->getOrderId() : $entity->getProfileId();
            if ($id) {
                $pusher->record($event, (int) $id);
            }
        }
        $pusher->flush();
    }

    private function collect(object $entity, bool $inserted): void
    {
        if ($entity instanceof OrderTrackingNumber && $inserted && $entity->getOrder()) {
            $this->seen[] = ['order.tracking_added', $entity];
        } elseif ($entity instanceof Profile && self::isCustomer($entity)) {
            $this->seen[] = [$inserted ? 'customer.created' : 'customer.updated', $entity];
        } elseif ($entity instanceof Address && $entity->getProfile() && self::isCustomer($entity->getProfile())) {
            $this->seen[] = ['customer.updated', $entity->getProfile()];
        }
    }

    private static function isCustomer(Profile $profile): bool
    {
        return $profile->getOrder() === null && !$profile->getAnonymous() && !$profile->isAdmin();
    }
}
