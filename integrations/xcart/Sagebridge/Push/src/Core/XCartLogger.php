<?php

declare(strict_types=1);

namespace Sagebridge\Push\Core;

use Sagebridge\Push\Lib\Logger;

/** The module's log lines in X-Cart's own log (`XLite\Logger::getLogger()`, a PSR-3 logger), channel sagebridge_push. */
final class XCartLogger implements Logger
{
    public function log(string $level, string $message, array $context = []): void
    {
        \XLite\Logger::getLogger('sagebridge_push')->log($level, $message, $context);
    }
}
