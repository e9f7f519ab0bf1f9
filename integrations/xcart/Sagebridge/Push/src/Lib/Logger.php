<?php

declare(strict_types=1);

namespace Sagebridge\Push\Lib;

/**
 * Where the module's log lines go (X-Cart's log in the store, a JSON-lines file or stderr in tests).
 * Context never holds the webhook secret or the tracking token.
 */
interface Logger
{
    /** @param array<string, mixed> $context */
    public function log(string $level, string $message, array $context = []): void;
}
