// The mlv executable: parse, run, and print any error once.
import MLVCommands

MLVMain.run()
