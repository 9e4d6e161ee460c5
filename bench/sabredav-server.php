<?php
// The sabre/dav peer of bench/peers.ts: Debian's php-sabre-dav (CalDAV, CardDAV, ACL) with PDO SQLite,
// as a router script for PHP's built-in server. `php sabredav-server.php init` creates the database.
// Settings come from SABRE_BENCH_DB, SABRE_BENCH_USERS (comma-separated) and SABRE_BENCH_PASSWORD.

date_default_timezone_set('UTC');
// sabre/dav 1.8 predates PHP 8: its deprecation notices would otherwise end up in responses.
error_reporting(E_ALL & ~E_DEPRECATED & ~E_NOTICE & ~E_WARNING & ~E_STRICT);
ini_set('display_errors', '0');
ini_set('log_errors', '1');
require_once 'Sabre/autoload.php';

$benchUsers = explode(',', (string) getenv('SABRE_BENCH_USERS'));
$benchPassword = (string) getenv('SABRE_BENCH_PASSWORD');
$pdo = new PDO('sqlite:' . getenv('SABRE_BENCH_DB'));
$pdo->setAttribute(PDO::ATTR_ERRMODE, PDO::ERRMODE_EXCEPTION);
$pdo->setAttribute(PDO::ATTR_TIMEOUT, 60);

if (PHP_SAPI === 'cli' && ($argv[1] ?? '') === 'init') {
    // The schema of Debian's examples/sql/sqlite.*.sql for sabre/dav 1.8.
    $pdo->exec('PRAGMA journal_mode=WAL');
    $pdo->exec('CREATE TABLE calendarobjects (id integer primary key asc, calendardata blob, uri text, calendarid integer, lastmodified integer, etag text, size integer, componenttype text, firstoccurence integer, lastoccurence integer)');
    $pdo->exec('CREATE TABLE calendars (id integer primary key asc, principaluri text, displayname text, uri text, ctag integer, description text, calendarorder integer, calendarcolor text, timezone text, components text, transparent bool)');
    $pdo->exec('CREATE TABLE addressbooks (id integer primary key asc, principaluri text, displayname text, uri text, description text, ctag integer)');
    $pdo->exec('CREATE TABLE cards (id integer primary key asc, addressbookid integer, carddata blob, uri text, lastmodified integer)');
    $pdo->exec('CREATE TABLE principals (id INTEGER PRIMARY KEY ASC, uri TEXT, email TEXT, displayname TEXT, vcardurl TEXT, UNIQUE(uri))');
    $pdo->exec('CREATE TABLE groupmembers (id INTEGER PRIMARY KEY ASC, principal_id INTEGER, member_id INTEGER, UNIQUE(principal_id, member_id))');
    $insert = $pdo->prepare('INSERT INTO principals (uri, email, displayname) VALUES (?, ?, ?)');
    foreach ($benchUsers as $user) {
        $insert->execute(["principals/$user", "$user@bench.invalid", $user]);
        $insert->execute(["principals/$user/calendar-proxy-read", null, null]);
        $insert->execute(["principals/$user/calendar-proxy-write", null, null]);
    }
    exit(0);
}

class BenchAuth extends \Sabre\DAV\Auth\Backend\AbstractBasic
{
    protected function validateUserPass($username, $password)
    {
        global $benchUsers, $benchPassword;
        return in_array($username, $benchUsers, true) && hash_equals($benchPassword, (string) $password);
    }
}

$principalBackend = new \Sabre\DAVACL\PrincipalBackend\PDO($pdo);
$server = new \Sabre\DAV\Server([
    new \Sabre\CalDAV\Principal\Collection($principalBackend),
    new \Sabre\CalDAV\CalendarRootNode($principalBackend, new \Sabre\CalDAV\Backend\PDO($pdo)),
    new \Sabre\CardDAV\AddressBookRoot($principalBackend, new \Sabre\CardDAV\Backend\PDO($pdo)),
]);
$server->setBaseUri('/');
$server->addPlugin(new \Sabre\DAV\Auth\Plugin(new BenchAuth(), 'bench'));
$server->addPlugin(new \Sabre\CalDAV\Plugin());
$server->addPlugin(new \Sabre\CardDAV\Plugin());
$server->addPlugin(new \Sabre\DAVACL\Plugin());
$server->exec();
