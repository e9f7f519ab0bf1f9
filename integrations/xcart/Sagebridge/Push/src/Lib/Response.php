<?php

declare(strict_types=1);

namespace Sagebridge\Push\Lib;

/** What one POST got back: a status and headers, or (status 0) a network error message. */
final class Response
{
    /** @param array<string, string> $headers lower-cased names */
    public function __construct(
        public readonly int $status,
        public readonly array $headers = [],
        public readonly string $body = '',
        public readonly string $error = '',
    ) {
    }

    public static function networkError(string $message): self
    {
        return new self(0, [], '', $message);
    }

    public function header(string $name): ?string
    {
        return $this->headers[strtolower($name)] ?? null;
    }
}
