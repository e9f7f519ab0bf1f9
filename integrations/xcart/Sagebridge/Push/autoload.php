<?php

/**
 * PSR-4 loader for the module's plain-PHP core (`Sagebridge\Push\Lib\...`), used where X-Cart's own
 * class loader is absent: the tests, and `bin/` tools run outside the store.
 */

declare(strict_types=1);

spl_autoload_register(static function (string $class): void {
    $prefix = 'Sagebridge\\Push\\Lib\\';
    if (str_starts_with($class, $prefix)) {
        $file = __DIR__ . '/src/Lib/' . str_replace('\\', '/', substr($class, strlen($prefix))) . '.php';
        if (is_file($file)) {
            require $file;
        }
    }
});
