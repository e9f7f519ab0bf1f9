<?php

declare(strict_types=1);

namespace Sagebridge\Push\Lib;

/** One JSON object per line (time, level, msg, context), appended to a file or a stream such as php://stderr. */
final class JsonLineLogger implements Logger
{
    public function __construct(private readonly string $target = 'php://stderr')
    {
    }

    public function log(string $level, string $message, array $context = []): void
    {
        $line = json_encode(
            ['ts' => Notification::utc(new \DateTimeImmutable('now')), 'level' => $level, 'logger' => 'sagebridge.push',
             'msg' => $message] + $context,
            JSON_UNESCAPED_SLASHES | JSON_UNESCAPED_UNICODE | JSON_INVALID_UTF8_SUBSTITUTE
        );
        file_put_contents($this->target, $line . "\n", FILE_APPEND | LOCK_EX);
    }
}
