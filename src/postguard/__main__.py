from postguard.cli.main import main

main()
