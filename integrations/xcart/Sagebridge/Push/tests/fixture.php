<?php

/**
 * Test driver for the module's plain-PHP core, run by tests/integration/test_xcart_push_module.py
 * with `php`. It uses the module's classes as the store does, minus X-Cart:
 *
 *   php fixture.php CONFIG.json record EVENT ID [EVENT ID ...]   Recorder::record + flush (one "request")
 *   php fixture.php CONFIG.json drain [--max-seconds=N] [--wait] [--tamper]
 *   php fixture.php CONFIG.json stats
 *   php fixture.php CONFIG.json tracking STORE.json METHOD TOKEN|- < body
 *   php fixture.php CONFIG.json sign TIMESTAMP < body
 *
 * CONFIG.json holds the module settings (hub_url, pair_id, webhook_secret, tracking_token, store,
 * queue_size, backoff_base_s, backoff_cap_s) plus `var_dir` and `log`. Output is one JSON document.
 * `--tamper` changes one byte of each body after it was signed, as an attacker on the path would.
 */

declare(strict_types=1);

require __DIR__ . '/../autoload.php';

use Sagebridge\Push\Lib\FileQueue;
use Sagebridge\Push\Lib\JsonLineLogger;
use Sagebridge\Push\Lib\Recorder;
use Sagebridge\Push\Lib\Response;
use Sagebridge\Push\Lib\Sender;
use Sagebridge\Push\Lib\Settings;
use Sagebridge\Push\Lib\Signer;
use Sagebridge\Push\Lib\StreamTransport;
use Sagebridge\Push\Lib\Tracking\OrderStore;
use Sagebridge\Push\Lib\Tracking\TrackingHandler;
use Sagebridge\Push\Lib\Transport;

/** Changes the first digit of the id after signing: same length, valid JSON, wrong MAC. */
final class TamperingTransport implements Transport
{
    public function __construct(private readonly Transport $inner)
    {
    }

    public function post(string $url, array $headers, string $body, float $timeoutSeconds): Response
    {
        $tampered = preg_replace_callback('/"(order_id|profile_id)":(\d)/',
            static fn (array $m): string => '"' . $m[1] . '":' . (($m[2] + 1) % 10 ?: 1), $body, 1);
        return $this->inner->post($url, $headers, $tampered, $timeoutSeconds);
    }
}

/** Orders and tracking rows in a JSON file, so idempotency can be checked across processes. */
final class JsonOrderStore implements OrderStore
{
    public function __construct(private readonly string $path)
    {
    }

    public function orderIdByNumber(string $orderNumber): ?int
    {
        return $this->load()['orders'][$orderNumber] ?? null;
    }

    public function trackingNumbers(int $orderId): array
    {
        $out = [];
        foreach ($this->load()['tracking'] as $row) {
            if ($row['order_id'] === $orderId) {
                $out[$row['tracking_id']] = $row['value'];
            }
        }
        return $out;
    }

    public function addTrackingNumber(int $orderId, string $value): int
    {
        $db = $this->load();
        $id = count($db['tracking']) + 1;
        $db['tracking'][] = ['tracking_id' => $id, 'order_id' => $orderId, 'value' => $value];
        file_put_contents($this->path, json_encode($db, JSON_PRETTY_PRINT));
        return $id;
    }

    private function load(): array
    {
        return json_decode((string) file_get_contents($this->path), true) + ['orders' => [], 'tracking' => []];
    }
}

$cfg = json_decode((string) file_get_contents($argv[1]), true, 8, JSON_THROW_ON_ERROR);
$settings = Settings::fromArray($cfg);
$log = new JsonLineLogger($cfg['log']);
$queue = new FileQueue($cfg['var_dir'] . '/queue', $settings->queueSize, $log);
$command = $argv[2];
$args = array_slice($argv, 3);

$out = match ($command) {
    'record' => (function () use ($queue, $settings, $args): array {
        $recorder = new Recorder($queue, $settings->store);
        for ($i = 0; $i + 1 < count($args); $i += 2) {
            $recorder->record($args[$i], $args[$i + 1]);
        }
        return ['enqueued' => $recorder->flush()];
    })(),
    'drain' => (function () use ($queue, $settings, $log, $args): array {
        $max = 30.0;
        foreach ($args as $a) {
            if (str_starts_with($a, '--max-seconds=')) {
                $max = (float) substr($a, 14);
            }
        }
        $transport = new StreamTransport();
        if (in_array('--tamper', $args, true)) {
            $transport = new TamperingTransport($transport);
        }
        return (new Sender($settings, $queue, $transport, $log))->drain($max, in_array('--wait', $args, true));
    })(),
    'stats' => $queue->stats() + ['bodies' => array_column($queue->head(PHP_INT_MAX), 'body')],
    'tracking' => (function () use ($settings, $log, $cfg, $args): array {
        [$store, $method, $token] = $args;
        $handler = new TrackingHandler($settings->trackingToken, new JsonOrderStore($store), $log, $cfg['var_dir'] . '/locks');
        [$status, $body, $notify] = $handler->handle($method, $token === '-' ? null : $token, (string) stream_get_contents(STDIN));
        return ['status' => $status, 'body' => $body, 'notify' => $notify];
    })(),
    'sign' => Signer::headers($settings->webhookSecret, (string) stream_get_contents(STDIN), (int) $args[0]),
};
echo json_encode($out, JSON_UNESCAPED_SLASHES), "\n";
