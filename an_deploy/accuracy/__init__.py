"""What export's check and the parity matrix share: the inputs they run, the comparison statistics and the rules."""
