<?php

declare(strict_types=1);

namespace Sagebridge\Push\Controller\Customer;

use Sagebridge\Push\Core\Pusher;
use Sagebridge\Push\Core\XCartLogger;
use Sagebridge\Push\Core\XCartOrderStore;
use Sagebridge\Push\Lib\Tracking\TrackingHandler;

/**
 * `POST /?target=sagebridge_tracking` (X-Cart 5.5 finds a module's customer-zone controller by
 * the target's UpperCamelCase name under src/Controller/Customer). The X-Cart 5.5 REST API has no
 * way to add a tracking number (tracking_numbers is read-only there), so the hub calls this.
 * All decisions are TrackingHandler's; this class only adapts the request and answers JSON.
 * It bypasses the storefront's session, form-id and page rendering: the token is the authentication.
 */
class SagebridgeTracking extends \XLite\Controller\Customer\ACustomer
{
    public function handleRequest()
    {
        $handler = new TrackingHandler(Pusher::settings()->trackingToken, new XCartOrderStore(), new XCartLogger(),
            Pusher::varDir() . '/locks');
        try {
            [$status, $body, $notify] = $handler->handle($_SERVER['REQUEST_METHOD'] ?? 'GET',
                $_SERVER['HTTP_X_SAGEBRIDGE_TOKEN'] ?? null, (string) file_get_contents('php://input'));
            if ($notify !== null) {
                // EntitySubscriber records it too on the flush; the Recorder keeps one per request.
                Pusher::getInstance()->record('order.tracking_added', $notify);
                Pusher::getInstance()->flush();
            }
        } catch (\Throwable $e) {
            (new XCartLogger())->log('error', 'tracking endpoint failed', ['error' => $e->getMessage()]);
            [$status, $body] = [500, ['error' => 'internal error']];
        }
        http_response_code($status);
        header('Content-Type: application/json');
        header('Cache-Control: no-store');
        echo json_encode($body, JSON_UNESCAPED_SLASHES);
        exit;
    }
}
