use strict; srand(3);
my @W = qw(alpha bravo charlie delta echo foxtrot golf hotel india juliet kilo lima mike november oscar papa quebec romeo sierra tango uniform victor whiskey xray yankee zulu);
my %h; my $n = $ARGV[0] // 1500000;
for my $i (0 .. $n - 1) {
    my $name = ucfirst($W[rand @W]) . " " . ucfirst($W[rand @W]);
    $h{"user:$i"} = { id => $i, name => $name, age => 18 + int(rand 72), score => rand(100),
                      tags => [ map { $W[rand @W] } 1 .. int(rand 5) ], line => "$name lives in " . $W[rand @W] };
}
$| = 1; print "ready\n"; my $x = <STDIN>;
