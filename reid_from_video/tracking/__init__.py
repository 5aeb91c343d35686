"""Camera folders to tracklets: per camera detect -> embed -> track -> MOTChallenge txt + crops + index."""
