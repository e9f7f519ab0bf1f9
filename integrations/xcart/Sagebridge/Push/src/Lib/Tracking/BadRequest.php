<?php

declare(strict_types=1);

namespace Sagebridge\Push\Lib\Tracking;

/** A tracking request we answer 400, with a message naming what is wrong. */
final class BadRequest extends \InvalidArgumentException
{
}
