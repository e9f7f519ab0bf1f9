<?php

declare(strict_types=1);

namespace Sagebridge\Push\Lib\Tracking;

/**
 * `{"order_number": "1001", "tracking_number": "1Z...", "carrier": "UPS"}`, read strictly: a JSON
 * object, `order_number` a non-blank string (X-Cart's `orderNumber` is a string column, matched
 * exactly after trimming), `tracking_number` a non-blank printable string of at most 255 characters
 * (what carriers issue; no control characters, which would corrupt the admin's list and e-mails),
 * `carrier` an optional printable string (X-Cart 5.5's OrderTrackingNumber has no carrier column;
 * it is only logged).
 */
final class TrackingRequest
{
    private const MAX_LEN = 255;

    public function __construct(
        public readonly string $orderNumber,
        public readonly string $trackingNumber,
        public readonly string $carrier,
    ) {
    }

    public static function parse(string $raw): self
    {
        try {
            $doc = json_decode($raw, true, 8, JSON_THROW_ON_ERROR);
        } catch (\JsonException) {
            throw new BadRequest('body is not valid JSON');
        }
        if (!is_array($doc) || array_is_list($doc) && $doc !== []) {
            throw new BadRequest('body must be a JSON object');
        }
        $order = $doc['order_number'] ?? null;
        if (!is_string($order) || ($order = trim($order)) === '' || strlen($order) > self::MAX_LEN) {
            throw new BadRequest('order_number must be a non-blank string of at most 255 characters');
        }
        $number = $doc['tracking_number'] ?? null;
        if (!is_string($number) || ($number = trim($number)) === '' || strlen($number) > self::MAX_LEN
            || preg_match('/[\x00-\x1f\x7f]/', $number)) {
            throw new BadRequest('tracking_number must be a non-empty printable string of at most 255 characters');
        }
        $carrier = $doc['carrier'] ?? '';
        if (!is_string($carrier) || strlen($carrier) > self::MAX_LEN || preg_match('/[\x00-\x1f\x7f]/', $carrier)) {
            throw new BadRequest('carrier must be a string of at most 255 printable characters');
        }
        return new self($order, $number, trim($carrier));
    }
}
