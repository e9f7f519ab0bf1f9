<?php

declare(strict_types=1);

namespace Sagebridge\Push\Lib;

/**
 * A bounded, file-backed FIFO of notification bodies under the module's var directory.
 *
 * Why files: the store's PHP process ends after every request, and the hub may be down for hours;
 * the notification must outlive both. Each entry is its own file, written to a temporary name and
 * renamed into place (rename is atomic on POSIX file systems), so a process killed mid-write leaves
 * no half entry. File names are a zero-padded sequence number, so sorting names is FIFO order.
 * A sequence counter and the counters (dropped, rejected, delivered) live in `meta.json`, changed
 * only under an exclusive flock of `queue.lock`; any number of PHP workers may enqueue at once.
 *
 * The bound: when a push makes the queue longer than `capacity`, the oldest entries are deleted and
 * counted in `dropped`, and the drop is logged with the dropped events. The hub also polls the store
 * (orders by lastRenewDate, profiles by creation date), so a dropped order or customer.created
 * notification only delays that change until the next poll. Profile edits are not polled: a
 * dropped customer.updated is caught up by that customer's next change (or an order of theirs).
 *
 * PDO SQLite would do the same, but Debian's php-cli and many stores lack pdo_sqlite; plain files
 * need no extension.
 */
final class FileQueue
{
    private const ENTRY_DIR = 'entries';
    private const META = 'meta.json';
    private const LOCK = 'queue.lock';
    private const DRAIN_LOCK = 'drain.lock';
    public const DROP_MESSAGE = 'push queue full: oldest notifications dropped; the hub\'s poll still finds those orders '
        . 'and new customers, a dropped customer.updated waits for that customer\'s next change';

    /** @var resource|null */
    private $drainLock = null;

    public function __construct(
        private readonly string $dir,
        private readonly int $capacity,
        private readonly Logger $log,
    ) {
        if ($capacity < 1) {
            throw new \InvalidArgumentException('queue capacity must be at least 1');
        }
        $entries = $this->dir . '/' . self::ENTRY_DIR;
        if (!is_dir($entries) && !@mkdir($entries, 0770, true) && !is_dir($entries)) {
            throw new \RuntimeException("cannot create queue directory $entries");
        }
    }

    /** Appends `body`; returns its sequence number. Drops (and reports) the oldest when over capacity. */
    public function push(string $body): int
    {
        return $this->locked(function (array &$meta) use ($body): int {
            $seq = $meta['next_seq'];
            $entry = json_encode(['seq' => $seq, 'body' => $body, 'enqueued_at' => time(), 'attempts' => 0],
                JSON_UNESCAPED_SLASHES | JSON_THROW_ON_ERROR);
            $this->writeAtomically($this->entryPath($seq), $entry);
            $meta['next_seq'] = $seq + 1;
            $excess = $meta['next_seq'] - $meta['head'] - $this->capacity;
            if ($excess > 0) {
                $events = [];
                for ($drop = $meta['head']; $drop < $meta['head'] + $excess; $drop++) {
                    $event = self::eventOf(@file_get_contents($this->entryPath($drop)));
                    $events[$event] = ($events[$event] ?? 0) + 1;
                    @unlink($this->entryPath($drop));
                }
                $meta['head'] += $excess;
                $meta['dropped'] += $excess;
                $this->log->log('warning', self::DROP_MESSAGE, [
                    'dropped_now' => $excess, 'dropped_events' => $events, 'dropped_total' => $meta['dropped'],
                    'capacity' => $this->capacity, 'oldest_kept_seq' => $meta['head'],
                ]);
            }
            return $seq;
        });
    }

    /** @return list<array{seq:int, body:string, enqueued_at:int, attempts:int}> up to `limit` oldest entries */
    public function head(int $limit): array
    {
        [$from, $to] = $this->locked(fn (array &$meta): array => [$meta['head'], min($meta['next_seq'], $meta['head'] + $limit)]);
        $out = [];
        for ($seq = $from; $seq < $to; $seq++) {
            $raw = @file_get_contents($this->entryPath($seq));
            if ($raw === false) {
                continue;                            // dropped by a concurrent push meanwhile
            }
            $entry = json_decode($raw, true);
            if (!is_array($entry) || !isset($entry['seq'], $entry['body'])) {
                $this->log->log('error', 'unreadable push queue entry removed', ['seq' => $seq]);
                $this->remove($seq, 'unreadable');
                continue;
            }
            $out[] = $entry;
        }
        return $out;
    }

    /** Removes a delivered (or refused) entry and counts it under `outcome`: delivered | rejected. */
    public function remove(int $seq, string $outcome): void
    {
        $this->locked(function (array &$meta) use ($seq, $outcome): void {
            if (@unlink($this->entryPath($seq))) {
                $meta[$outcome] = ($meta[$outcome] ?? 0) + 1;
            }
            // The drainer removes from the head, in order; move the head past every entry now gone.
            while ($meta['head'] < $meta['next_seq'] && !is_file($this->entryPath($meta['head']))) {
                $meta['head']++;
            }
        });
    }

    /** Rewrites an entry's attempt count (kept for the log; the entry stays at the head). */
    public function recordAttempt(array $entry): void
    {
        $entry['attempts'] = ($entry['attempts'] ?? 0) + 1;
        $this->locked(function (array &$meta) use ($entry): void {
            if (is_file($this->entryPath($entry['seq']))) {      // not dropped meanwhile: do not resurrect it
                $this->writeAtomically($this->entryPath($entry['seq']),
                    json_encode($entry, JSON_UNESCAPED_SLASHES | JSON_THROW_ON_ERROR));
            }
        });
    }

    /** The shared backoff state: the hub, not one entry, is what is down. */
    public function setBackoff(int $failures, float $notBefore): void
    {
        $this->locked(function (array &$meta) use ($failures, $notBefore): void {
            $meta['failures'] = $failures;
            $meta['not_before'] = $notBefore;
        });
    }

    /** @return array{size:int, dropped:int, rejected:int, delivered:int, failures:int, not_before:float, next_seq:int} */
    public function stats(): array
    {
        return $this->locked(fn (array &$meta): array => ['size' => $meta['next_seq'] - $meta['head']] + $meta);
    }

    public function size(): int
    {
        return $this->stats()['size'];
    }

    /** One drainer at a time (cron and an opportunistic drain may overlap); false when another holds it. */
    public function tryLockDrain(): bool
    {
        $h = fopen($this->dir . '/' . self::DRAIN_LOCK, 'c');
        if ($h === false || !flock($h, LOCK_EX | LOCK_NB)) {
            if ($h !== false) {
                fclose($h);
            }
            return false;
        }
        $this->drainLock = $h;
        return true;
    }

    public function unlockDrain(): void
    {
        if ($this->drainLock !== null) {
            flock($this->drainLock, LOCK_UN);
            fclose($this->drainLock);
            $this->drainLock = null;
        }
    }

    /** @template T @param callable(array&): T $fn @return T */
    private function locked(callable $fn): mixed
    {
        $h = fopen($this->dir . '/' . self::LOCK, 'c');
        if ($h === false || !flock($h, LOCK_EX)) {
            throw new \RuntimeException('cannot lock the push queue');
        }
        try {
            $meta = $this->readMeta();
            $before = $meta;
            $result = $fn($meta);
            if ($meta !== $before) {
                $this->writeAtomically($this->dir . '/' . self::META, json_encode($meta, JSON_THROW_ON_ERROR));
            }
            return $result;
        } finally {
            flock($h, LOCK_UN);
            fclose($h);
        }
    }

    /**
     * The counters and the live range [head, next_seq). Entries leave only from the head (drained
     * oldest first, or dropped oldest first), so the range is contiguous and the size is
     * next_seq - head, with no directory scan per push. Only when meta.json is missing (first use,
     * or lost) is the directory scanned, so sequence numbers are never reused.
     */
    private function readMeta(): array
    {
        $raw = @file_get_contents($this->dir . '/' . self::META);
        $meta = $raw === false ? null : json_decode($raw, true);
        if (!is_array($meta) || !isset($meta['next_seq'], $meta['head'])) {
            $names = $this->names();
            $meta = (is_array($meta) ? $meta : []) + [
                'head' => $names ? (int) substr($names[0], 0, -5) : 1,
                'next_seq' => $names ? (int) substr(end($names), 0, -5) + 1 : 1,
            ];
        }
        return $meta + ['dropped' => 0, 'rejected' => 0, 'delivered' => 0, 'failures' => 0, 'not_before' => 0.0];
    }

    private static function eventOf(string|false $raw): string
    {
        $body = $raw === false ? null : (json_decode($raw, true)['body'] ?? null);
        $event = is_string($body) ? (json_decode($body, true)['event'] ?? null) : null;
        return is_string($event) ? $event : '?';
    }

    /** @return list<string> entry file names, oldest first */
    private function names(): array
    {
        $names = @scandir($this->dir . '/' . self::ENTRY_DIR) ?: [];
        $names = array_values(array_filter($names, static fn (string $n): bool => (bool) preg_match('/^\d{20}\.json$/D', $n)));
        sort($names, SORT_STRING);
        return $names;
    }

    private function entryPath(int $seq): string
    {
        return sprintf('%s/%s/%020d.json', $this->dir, self::ENTRY_DIR, $seq);
    }

    private function writeAtomically(string $path, string $data): void
    {
        $tmp = $path . '.' . bin2hex(random_bytes(6)) . '.tmp';
        if (file_put_contents($tmp, $data) !== strlen($data) || !rename($tmp, $path)) {
            @unlink($tmp);
            throw new \RuntimeException("cannot write $path");
        }
    }
}
