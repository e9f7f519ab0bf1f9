<?php

declare(strict_types=1);

namespace Sagebridge\Push\Lib;

/**
 * Collects the events of one request and writes them to the queue once the store's data is
 * committed (the X-Cart glue calls `flush()` from Doctrine's postFlush and at shutdown), so the hub
 * never fetches an order before the write that notified it is visible. One request often reports
 * the same change twice (an order-history event and an entity change), so events are de-duplicated
 * per (event, id) within the request; a duplicate across requests is harmless, ingest re-fetches.
 */
final class Recorder
{
    /** @var array<string, array{0:string, 1:int, 2:\DateTimeImmutable}> */
    private array $pending = [];
    /** @var array<string, true> */
    private array $written = [];
    private int $enqueued = 0;

    public function __construct(private readonly FileQueue $queue, private readonly string $store)
    {
    }

    public function record(string $event, int|string $id): void
    {
        $id = Notification::validId($id);
        Notification::idKey($event);                 // unknown event: refused now, not at flush
        $key = "$event:$id";
        if (!isset($this->pending[$key]) && !isset($this->written[$key])) {
            $this->pending[$key] = [$event, $id, new \DateTimeImmutable('now')];
        }
    }

    /** Writes pending events to the queue; returns how many. */
    public function flush(): int
    {
        $n = 0;
        foreach ($this->pending as $key => [$event, $id, $at]) {
            $this->queue->push(Notification::body($event, $id, $this->store, $at));
            $this->written[$key] = true;
            unset($this->pending[$key]);
            $n++;
        }
        $this->enqueued += $n;
        return $n;
    }

    /** How many notifications this request enqueued (the request-end drain runs only if any). */
    public function enqueued(): int
    {
        return $this->enqueued;
    }
}
