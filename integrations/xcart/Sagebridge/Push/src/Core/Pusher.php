<?php

declare(strict_types=1);

namespace Sagebridge\Push\Core;

use Sagebridge\Push\Lib\FileQueue;
use Sagebridge\Push\Lib\Recorder;
use Sagebridge\Push\Lib\Sender;
use Sagebridge\Push\Lib\Settings;
use Sagebridge\Push\Lib\StreamTransport;

/**
 * The module inside one PHP process: settings from the module's settings page, the queue under
 * `var/sagebridge_push/`, the request's Recorder, and the request-end drain.
 *
 * Request-end drain: when the request enqueued something, a shutdown function first ends the
 * HTTP response (fastcgi_finish_request under PHP-FPM, so the shopper does not wait), then drains
 * for at most 5 s without sleeping through backoff; anything left (hub down) waits for the cron
 * command. Cron is what guarantees progress; the request-end drain only cuts latency.
 */
final class Pusher
{
    private const REQUEST_DRAIN_SECONDS = 5.0;

    private static ?self $instance = null;

    private readonly Recorder $recorder;
    private bool $shutdownRegistered = false;

    private function __construct(private readonly Settings $settings, private readonly FileQueue $queue)
    {
        $this->recorder = new Recorder($queue, $settings->store);
    }

    public static function getInstance(): self
    {
        if (self::$instance === null) {
            $settings = self::settings();
            self::$instance = new self($settings, new FileQueue(self::varDir() . '/queue', $settings->queueSize, new XCartLogger()));
        }
        return self::$instance;
    }

    /** The module's options (Settings page: Sagebridge Push), as stored in X-Cart's config table. */
    public static function settings(): Settings
    {
        $c = \XLite\Core\Config::getInstance()->Sagebridge->Push;
        return Settings::fromArray([
            'hub_url' => $c->hub_url, 'pair_id' => $c->pair_id, 'webhook_secret' => $c->webhook_secret,
            'tracking_token' => $c->tracking_token, 'store' => $c->store_instance,
            'queue_size' => $c->queue_size ?: 10000,
        ]);
    }

    public static function varDir(): string
    {
        return rtrim(LC_DIR_VAR, '/') . '/sagebridge_push';
    }

    public function record(string $event, int $id): void
    {
        if (!$this->settings->canSend()) {
            return;                                  // not configured yet: nothing to queue for
        }
        try {
            $this->recorder->record($event, $id);
            if (!$this->shutdownRegistered) {
                $this->shutdownRegistered = true;
                register_shutdown_function([$this, 'atShutdown']);
            }
        } catch (\Throwable $e) {
            // A notification must never break checkout or the admin; the hub's poll covers the change.
            (new XCartLogger())->log('error', 'push notification not recorded', ['event' => $event, 'id' => $id,
                'error' => $e->getMessage()]);
        }
    }

    /** Called from Doctrine's postFlush: the recorded changes are committed, so they may be announced. */
    public function flush(): void
    {
        try {
            $this->recorder->flush();
        } catch (\Throwable $e) {
            (new XCartLogger())->log('error', 'push queue not writable; notifications lost (the hub\'s poll covers them)',
                ['error' => $e->getMessage(), 'dir' => self::varDir()]);
        }
    }

    public function atShutdown(): void
    {
        $this->flush();
        if ($this->recorder->enqueued() === 0) {
            return;
        }
        if (function_exists('fastcgi_finish_request')) {
            fastcgi_finish_request();
        }
        $this->sender()->drain(self::REQUEST_DRAIN_SECONDS, false);
    }

    public function sender(): Sender
    {
        return new Sender($this->settings, $this->queue, new StreamTransport(), new XCartLogger());
    }

    public function queue(): FileQueue
    {
        return $this->queue;
    }
}
