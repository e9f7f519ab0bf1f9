<?php

declare(strict_types=1);

namespace Sagebridge\Push\Lib;

/**
 * POST through PHP's own http(s) stream wrapper, so the module needs no curl extension (X-Cart
 * usually has curl; php-cli on Debian does not). `ignore_errors` makes 4xx/5xx answers readable
 * instead of a false return, so a false return with no status line is a network failure; redirects
 * are not followed (a hub URL that redirects is misconfigured, and a redirected POST may lose its body).
 */
final class StreamTransport implements Transport
{
    public function post(string $url, array $headers, string $body, float $timeoutSeconds): Response
    {
        $lines = ['Content-Type: application/json', 'Connection: close', 'Content-Length: ' . strlen($body)];
        foreach ($headers as $name => $value) {
            $lines[] = "$name: $value";
        }
        $context = stream_context_create([
            'http' => [
                'method' => 'POST',
                'header' => implode("\r\n", $lines),
                'content' => $body,
                'timeout' => $timeoutSeconds,
                'ignore_errors' => true,
                'follow_location' => 0,
                'max_redirects' => 1,
                'protocol_version' => 1.1,
                'user_agent' => 'Sagebridge-XCart-Push/1.0',
            ],
        ]);
        $error = '';
        set_error_handler(static function (int $no, string $message) use (&$error): bool {
            $error = $message;
            return true;
        });
        try {
            $answer = file_get_contents($url, false, $context);
            $raw = function_exists('http_get_last_response_headers') ? (http_get_last_response_headers() ?? [])
                : ($http_response_header ?? []);
        } finally {
            restore_error_handler();
        }
        if (!$raw || !preg_match('#^HTTP/\S+\s+(\d{3})#', $raw[0], $m)) {
            return Response::networkError($error !== '' ? $error : 'no HTTP answer');
        }
        $parsed = [];
        foreach (array_slice($raw, 1) as $line) {
            if (str_contains($line, ':')) {
                [$name, $value] = explode(':', $line, 2);
                $parsed[strtolower(trim($name))] = trim($value);
            }
        }
        return new Response((int) $m[1], $parsed, $answer === false ? '' : $answer);
    }
}
