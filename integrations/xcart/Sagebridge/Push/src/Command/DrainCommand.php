<?php

declare(strict_types=1);

namespace Sagebridge\Push\Command;

use Sagebridge\Push\Core\Pusher;
use Symfony\Component\Console\Command\Command;
use Symfony\Component\Console\Input\InputInterface;
use Symfony\Component\Console\Input\InputOption;
use Symfony\Component\Console\Output\OutputInterface;

/**
 * `php bin/console sagebridge:push:drain [--max-seconds=55]`, run from cron every minute: sends
 * the queued notifications, sleeping through backoff within the time budget, so one run per
 * minute keeps retrying during a hub outage without overlapping the next (a second drainer finds
 * the drain lock taken and exits at once).
 */
final class DrainCommand extends Command
{
    protected static $defaultName = 'sagebridge:push:drain';

    protected function configure(): void
    {
        $this->setDescription('Send queued Sagebridge push notifications to the hub')
            ->addOption('max-seconds', null, InputOption::VALUE_REQUIRED, 'Stop after this long', '55');
    }

    protected function execute(InputInterface $input, OutputInterface $output): int
    {
        $pusher = Pusher::getInstance();
        $result = $pusher->sender()->drain((float) $input->getOption('max-seconds'), true);
        $stats = $pusher->queue()->stats();
        $output->writeln(json_encode($result + ['dropped_total' => $stats['dropped'], 'rejected_total' => $stats['rejected']]));
        return Command::SUCCESS;
    }
}
