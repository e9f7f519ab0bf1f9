<?php

declare(strict_types=1);

namespace Sagebridge\Push;

use Symfony\Component\HttpKernel\Bundle\Bundle;

/** The module's Symfony bundle, as X-Cart 5.5 modules declare one (e.g. CDev\Coupons\CouponsBundle). */
final class PushBundle extends Bundle
{
}
