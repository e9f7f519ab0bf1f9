<?php

declare(strict_types=1);

namespace Sagebridge\Push\Lib;

/** Sends one POST. An interface so tests can interpose (e.g. tamper with a body after signing). */
interface Transport
{
    /** @param array<string, string> $headers */
    public function post(string $url, array $headers, string $body, float $timeoutSeconds): Response;
}
