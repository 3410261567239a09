import LoupeCLI
import LoupeCore

ProcessSetup.prepare()
LoupeCommand.main()
